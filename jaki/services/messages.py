"""Messages of the public services (Indonesian first, English via Accept-Language)."""

MESSAGES = {
    "section_stale": (
        "Menampilkan data terakhir dari {agency} per {as_of}; layanan sedang tidak dapat dihubungi.",
        "Showing the last data from {agency} as of {as_of}; the service cannot be reached right now.",
    ),
    "section_unavailable": (
        "Data dari {agency} sedang tidak tersedia. Silakan coba lagi nanti.",
        "Data from {agency} is unavailable right now. Please try again later.",
    ),
    "agency_unavailable": (
        "Layanan {agency} sedang tidak dapat dihubungi. Silakan coba lagi nanti.",
        "The {agency} service cannot be reached right now. Please try again later.",
    ),
    "population_registry_unavailable": (
        "Data kependudukan (Dukcapil) sedang tidak dapat dihubungi. Silakan coba lagi nanti.",
        "The population registry cannot be reached right now. Please try again later.",
    ),
    "nik_not_in_household": (
        "Anda hanya dapat memeriksa NIK Anda sendiri atau anak dalam Kartu Keluarga Anda.",
        "You can only check your own NIK or that of a child in your family card.",
    ),
    "domain_not_for_agency": (
        "Data ini bukan wewenang dinas Anda.",
        "This data is not your agency's responsibility.",
    ),
    "permit_type_unknown": ("Jenis izin tidak dikenal.", "Unknown permit type."),
    "letter_type_unknown": ("Jenis surat tidak dikenal.", "Unknown letter type."),
    "kelurahan_required": (
        "Kelurahan wajib diisi dengan kode Kemendagri yang valid (contoh: 31.74.05.1002).",
        "A valid kelurahan code is required (e.g. 31.74.05.1002).",
    ),
    "object_address_required": ("Alamat objek wajib diisi.", "The address of the building or land is required."),
    "status_transition_not_allowed": (
        "Status tidak dapat diubah dari {from_status} ke {to_status}.",
        "The status cannot change from {from_status} to {to_status}.",
    ),
    "note_required": ("Keterangan wajib diisi untuk keputusan ini.", "A note is required for this decision."),
    "documents_missing": (
        "Dokumen wajib belum lengkap.",
        "Some required documents are missing.",
    ),
    "document_kind_unknown": (
        "Jenis dokumen tidak ada dalam daftar persyaratan.",
        "This kind of document is not on the checklist.",
    ),
    "document_too_large": (
        "Ukuran dokumen maksimal {megabytes} MB.",
        "A document may be at most {megabytes} MB.",
    ),
    "document_type_unsupported": (
        "Dokumen harus berupa PDF, JPEG, PNG atau HEIC.",
        "A document must be a PDF, JPEG, PNG or HEIC file.",
    ),
    "too_many_documents": ("Terlalu banyak dokumen.", "Too many documents."),
    "application_not_editable": (
        "Dokumen hanya dapat diubah saat draf atau saat diminta perbaikan.",
        "Documents can only be changed in a draft or when a revision was requested.",
    ),
    "storage_unavailable": (
        "Penyimpanan dokumen sedang bermasalah. Silakan coba lagi.",
        "Document storage is having trouble. Please try again.",
    ),
    "enrolment_not_found": ("Penerima tidak terdaftar pada program ini.", "No such enrolment in this programme."),
    "enrolment_not_active": ("Kepesertaan tidak aktif.", "The enrolment is not active."),
    "disbursement_exists": (
        "Penyaluran untuk periode ini sudah dicatat.",
        "A disbursement for this period has already been recorded.",
    ),
}
