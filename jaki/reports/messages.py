"""Citizen-facing messages of the reports domain: code -> (Indonesian, English)."""

MESSAGES: dict[str, tuple[str, str]] = {
    # Public status labels (JAKI's); the public code is the part after report_label_
    "report_label_menunggu": ("Menunggu", "Waiting"),
    "report_label_koordinasi": ("Koordinasi", "Being coordinated"),
    "report_label_disposisi": ("Disposisi", "Dispatched"),
    "report_label_proses": ("Proses", "In progress"),
    "report_label_selesai": ("Selesai", "Done"),
    "report_label_ditolak": ("Ditolak", "Rejected"),
    "report_label_digabung": ("Digabung dengan laporan lain", "Merged with another report"),
    "report_label_menunggu_validasi": ("Menunggu Validasi", "Awaiting validation"),
    "report_label_dibatalkan": ("Dibatalkan pelapor", "Withdrawn by the reporter"),
    "report_label_tl_ditolak": ("TL Ditolak", "Follow-up rejected"),
    # Creating
    "location_outside_jakarta": (
        "Lokasi berada di luar wilayah DKI Jakarta. Pilih titik lokasi di Jakarta.",
        "The location is outside Jakarta. Pick a point in Jakarta.",
    ),
    "location_in_neighbour_region": (
        "Lokasi berada di {region}, di luar wilayah DKI Jakarta. Laporkan ke pemerintah daerah setempat.",
        "The location is in {region}, outside Jakarta. Report it to that region's government.",
    ),
    "category_unknown": ("Kategori laporan tidak dikenal.", "Unknown report category."),
    "too_many_photos": ("Maksimal {max} foto per laporan.", "At most {max} photos per report."),
    "duplicate_nearby": (
        "Sudah ada laporan serupa di dekat lokasi ini. Dukung laporan tersebut, atau kirim ulang dengan "
        "force=true jika masalahnya berbeda.",
        "A similar report exists nearby. Support it instead, or resend with force=true if it is a different problem.",
    ),
    "report_daily_cap": (
        "Anda telah mencapai batas {cap} laporan per hari. Coba lagi besok.",
        "You have reached the limit of {cap} reports a day. Try again tomorrow.",
    ),
    # Workflow
    "transition_not_allowed": (
        "Status laporan tidak dapat diubah dari {from_status} ke {to_status}.",
        "The report cannot go from {from_status} to {to_status}.",
    ),
    "transition_forbidden": (
        "Anda tidak berwenang mengubah status laporan ini.",
        "You are not allowed to change this report's status.",
    ),
    "report_reason_required": ("Alasan wajib diisi.", "A reason is required."),
    "resolution_note_required": ("Catatan penyelesaian wajib diisi.", "A resolution note is required."),
    "evidence_required": (
        "Unggah foto bukti penyelesaian terlebih dahulu.",
        "Upload a photo proving the work first.",
    ),
    "reopen_window_passed": (
        "Laporan hanya dapat dibuka kembali dalam {days} hari setelah selesai.",
        "A report can only be reopened within {days} days of being resolved.",
    ),
    "officer_invalid": (
        "Petugas tidak ditemukan atau bukan petugas dinas yang bertanggung jawab.",
        "Not an officer of the responsible agency.",
    ),
    "duplicate_of_invalid": (
        "Laporan asal tidak valid (harus laporan lain yang masih aktif).",
        "The original report is not valid (it must be another open report).",
    ),
    "report_already_claimed": (
        "Laporan sudah ditangani petugas lain.",
        "Another officer has already claimed this report.",
    ),
    "report_not_claimable": ("Laporan ini tidak dapat diambil.", "This report cannot be claimed."),
    "transfer_not_allowed": (
        "Laporan tidak dapat dialihkan pada status ini.",
        "The report cannot be transferred in this status.",
    ),
    "transfer_target_required": (
        "Pilih kelurahan atau dinas tujuan.",
        "Choose the target kelurahan or agency.",
    ),
    "kelurahan_unknown": ("Kelurahan tidak dikenal.", "Unknown kelurahan."),
    # Citizens' interactions
    "cannot_support_own": ("Anda tidak dapat mendukung laporan sendiri.", "You cannot support your own report."),
    "report_not_open": ("Laporan ini sudah tidak aktif.", "This report is no longer open."),
    "rating_not_allowed": (
        "Penilaian hanya dapat diberikan pelapor setelah laporan selesai.",
        "Only the reporter can rate, once the report is resolved.",
    ),
    "already_rated": (
        "Anda sudah memberi penilaian untuk penyelesaian ini.",
        "You have already rated this resolution.",
    ),
    "evidence_not_allowed": (
        "Foto bukti hanya dapat diunggah saat laporan sedang diproses.",
        "Evidence can only be uploaded while the report is in progress.",
    ),
    # Evidence bound to the task (issue 15): why a photo is refused, in the officer's language
    "capture_token_missing": (
        "Token pengambilan foto wajib dikirim. Mulai pekerjaan untuk mendapatkannya.",
        "A capture token is required. Start the work to get one.",
    ),
    "capture_token_invalid": (
        "Token pengambilan foto tidak berlaku untuk laporan dan penugasan ini.",
        "The capture token is not valid for this report and assignment.",
    ),
    "capture_token_expired": (
        "Token pengambilan foto sudah kedaluwarsa. Minta token baru.",
        "The capture token has expired. Ask for a new one.",
    ),
    "capture_token_used": (
        "Token pengambilan foto sudah dipakai untuk foto lain. Minta token baru.",
        "The capture token was already used for another photo. Ask for a new one.",
    ),
    "evidence_fix_missing": (
        "Lokasi GPS foto (lintang, bujur, akurasi) wajib dikirim.",
        "The photo's GPS fix (latitude, longitude, accuracy) is required.",
    ),
    "evidence_fix_imprecise": (
        "Akurasi GPS terlalu rendah (lebih dari {max} m). Tunggu sinyal yang lebih baik lalu ambil ulang.",
        "The GPS fix is too imprecise (over {max} m). Wait for a better signal and take it again.",
    ),
    "evidence_too_far": (
        "Foto diambil {distance} m dari lokasi laporan; batasnya {radius} m. Ambil foto di lokasi.",
        "The photo was taken {distance} m from the report; the limit is {radius} m. Take it on site.",
    ),
    "evidence_capture_time_missing": ("Waktu pengambilan foto wajib dikirim.", "The capture time is required."),
    "evidence_captured_before_claim": (
        "Foto diambil sebelum pekerjaan dimulai, sehingga tidak dapat menjadi bukti pekerjaan ini.",
        "The photo was taken before the work started, so it cannot prove this work.",
    ),
    "evidence_captured_after_upload": (
        "Waktu pengambilan foto berada di masa depan. Periksa jam perangkat.",
        "The capture time is in the future. Check the device's clock.",
    ),
    "evidence_photo_reused": (
        "Foto ini sama dengan foto yang sudah pernah diunggah. Ambil foto baru di lokasi.",
        "This photo matches one uploaded before. Take a new photo on site.",
    ),
    "evidence_log_busy": ("Log bukti sedang sibuk. Coba lagi.", "The evidence log is busy. Try again."),
    # Validation, the citizen's word, the right owner (issue 15)
    "validation_required": (
        "Kategori ini memerlukan validasi: selesaikan ke status Menunggu Validasi.",
        "This category needs validation: finish to Awaiting validation.",
    ),
    "validation_not_required": (
        "Kategori ini tidak memerlukan validasi: selesaikan langsung.",
        "This category needs no validation: resolve it directly.",
    ),
    "validator_is_resolver": (
        "Validasi harus dilakukan orang lain, bukan petugas yang menyelesaikan.",
        "Someone other than the officer who resolved it must validate.",
    ),
    "withdraw_not_allowed": (
        "Laporan hanya dapat dibatalkan sebelum didisposisikan.",
        "A report can only be withdrawn before it is dispatched.",
    ),
    "category_change_not_allowed": (
        "Kategori tidak dapat diubah pada status ini.",
        "The category cannot be changed in this status.",
    ),
    "category_unchanged": ("Kategori sudah sama.", "The category is already that one."),
    "responsible_body_required": (
        "Sebutkan instansi yang bertanggung jawab.",
        "Name the body that is responsible.",
    ),
    "responsible_body_is_owner": (
        "Instansi tersebut sudah pemilik laporan ini.",
        "That body already owns this report.",
    ),
    "external_signature_invalid": ("Tanda tangan tidak valid.", "The signature is not valid."),
    "external_answer_invalid": ("Jawaban instansi tidak valid.", "The body's answer is not valid."),
    "category_exists": ("Kode kategori sudah dipakai.", "The category code is already in use."),
    "bbox_invalid": (
        "bbox harus berisi min_lon,min_lat,max_lon,max_lat dengan nilai yang valid.",
        "bbox must be min_lon,min_lat,max_lon,max_lat with valid values.",
    ),
    "area_filter_invalid": ("Kode wilayah tidak valid.", "Not a valid area code."),
}
