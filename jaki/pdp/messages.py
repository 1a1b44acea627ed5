"""Messages of the data-rights room: code -> (Indonesian, English)."""

MESSAGES: dict[str, tuple[str, str]] = {
    "pdp_need_to_know": (
        "Data orang ini di luar wilayah dan kasus Anda. Bila perlu, gunakan akses darurat (X-Break-Glass) dengan "
        "alasan: akses itu ditinjau atasan dan terlihat oleh warga.",
        "This person's data is outside your area and cases. If you must, use a break-glass read (X-Break-Glass) "
        "with a reason: it is reviewed by a supervisor and shown to the citizen.",
    ),
    "pdp_break_glass_unknown": ("Alasan akses darurat harus salah satu dari: {allowed}.", "Use one of: {allowed}."),
    "pdp_delay_too_long": (
        "Penundaan harus di masa depan dan paling lama {days} hari setelah akses.",
        "A delay must end in the future and at most {days} days after the read.",
    ),
    "pdp_review_invalid": ("Hasil tinjauan: justified atau unjustified.", "A review is justified or unjustified."),
    "pdp_review_done": ("Akses ini sudah ditinjau.", "This read has been reviewed already."),
    "pdp_correction_domain_unknown": ("Layanan harus salah satu dari: {allowed}.", "The service is one of: {allowed}."),
    "pdp_correction_field_unknown": (
        "Data yang dapat diajukan perbaikan: {allowed}.",
        "Fields that can be corrected: {allowed}.",
    ),
    "pdp_member_unknown": (
        "Anggota keluarga ini tidak ada dalam data yang dapat Anda lihat.",
        "This family member is not among those whose data you may see.",
    ),
    "pdp_correction_open": (
        "Permohonan perbaikan untuk data ini masih diproses.",
        "A correction request for this field is still open.",
    ),
    "pdp_correction_transition": (
        "Permohonan berstatus {current}: perubahan itu tidak dapat dilakukan.",
        "The request is {current}: that change is not possible.",
    ),
    "pdp_correction_note_required": (
        "Tuliskan hasilnya untuk warga (apa yang diperbaiki atau mengapa ditolak).",
        "Write the outcome for the citizen (what was corrected, or why not).",
    ),
    "pdp_consent_unknown": ("Pilihan yang ada: {allowed}.", "The choices are: {allowed}."),
    # The access log
    "pdp_access_kind_official": ("Dibaca petugas", "Read by an official"),
    "pdp_access_kind_agency_pull": ("Diambil dari instansi untuk Anda", "Fetched from an agency for you"),
    "pdp_access_kind_open311_contact": ("Kontak pelapor Open311 dibaca", "Open311 contact read"),
    "pdp_access_kind_export": ("Salinan data dibuat", "Data export made"),
    # Closing an account
    "pdp_deletion_done": (
        "Akun Anda telah ditutup dan data pribadi Anda dihapus. Simpan nomor tanda terima {reference}.",
        "Your account is closed and your personal data erased. Keep the receipt number {reference}.",
    ),
    "pdp_erased_account": (
        "NIK, nama, tanggal lahir, nomor HP, email, kata sandi, alamat domisili, data KK",
        "NIK, name, birth date, phone, email, password, home area, family card link",
    ),
    "pdp_erased_sessions": ("Semua sesi masuk (token dicabut)", "Every login session (tokens revoked)"),
    "pdp_erased_devices": (
        "Perangkat untuk notifikasi (dilepas dari semua topik)",
        "Devices for notifications (unsubscribed from every topic)",
    ),
    "pdp_erased_notifications": ("Kotak masuk dan pengaturan notifikasi", "Inbox and notification settings"),
    "pdp_erased_one_time_codes": ("Kode OTP", "One-time codes"),
    "pdp_erased_consents": ("Pilihan persetujuan", "Consent choices"),
    "pdp_erased_correction_requests": ("Permohonan perbaikan data", "Correction requests"),
    "pdp_erased_service_cache": ("Salinan data layanan dari instansi", "Copies of agency data for the overview"),
    "pdp_erased_idempotency_answers": ("Jawaban tersimpan dari permintaan ulang", "Stored answers of retried requests"),
    "pdp_kept_reports_anonymous": ("Laporan Anda, sebagai laporan anonim", "Your reports, as anonymous reports"),
    "pdp_kept_reports_anonymous_why": (
        "Laporan adalah catatan publik yang diikuti warga lain dan instansi.",
        "Reports are public records other residents and agencies follow.",
    ),
    "pdp_kept_history_pseudonymous": (
        "Riwayat laporan dan permohonan dengan kode samaran",
        "Report and application history under a pseudonymous id",
    ),
    "pdp_kept_history_pseudonymous_why": (
        "Riwayat tindak lanjut harus utuh; kode samaran tidak lagi terhubung ke Anda.",
        "Follow-up history must stay whole; the pseudonymous id no longer leads to you.",
    ),
    "pdp_kept_audit_trail": (
        "Jejak audit siapa membaca data Anda, dengan kode samaran",
        "The audit trail of who read your data, pseudonymised",
    ),
    "pdp_kept_audit_trail_why": (
        "Wajib disimpan sebagai rekam jejak pemrosesan (UU PDP Pasal 31).",
        "Required as the record of processing (UU PDP art. 31).",
    ),
    "pdp_kept_access_log_pseudonymous": ("Log akses, dengan kode samaran", "The access log, pseudonymised"),
    "pdp_kept_access_log_pseudonymous_why": (
        "Bagian dari rekam jejak pemrosesan; dihapus setelah masa simpannya.",
        "Part of the record of processing; deleted after its retention period.",
    ),
    "pdp_kept_permit_files": ("Izin dan surat yang telah terbit", "Permits and letters issued"),
    "pdp_kept_permit_files_why": (
        "Arsip pemerintahan (UU 43/2009 tentang Kearsipan).",
        "Government archives (Law 43/2009 on Archives).",
    ),
    "pdp_kept_agency_records": ("Data di Dukcapil dan dinas-dinas", "Records held by Dukcapil and the agencies"),
    "pdp_kept_agency_records_why": (
        "Data itu milik instansi tersebut; ajukan penghapusan atau perbaikan kepada mereka.",
        "Those records are the agencies' own; ask them to erase or correct them.",
    ),
}
