"""Messages of the statistics endpoints: code -> (Indonesian, English)."""

MESSAGES: dict[str, tuple[str, str]] = {
    "stats_month_invalid": ("Bulan harus berformat YYYY-MM, misalnya 2025-07.", "A month is YYYY-MM, e.g. 2025-07."),
    "stats_period_invalid": (
        "Bulan akhir (until) tidak boleh sebelum bulan awal (since).",
        "The last month (until) may not come before the first (since).",
    ),
    "stats_period_too_long": ("Periode paling lama {most} bulan.", "A period covers at most {most} months."),
    "stats_group_by_invalid": (
        "group_by berisi paling banyak {most} dari: {allowed}, dipisahkan koma.",
        "group_by takes at most {most} of: {allowed}, separated by commas.",
    ),
    "stats_category_unknown": ("Kategori laporan tidak dikenal.", "Unknown report category."),
    "stats_other_agency": (
        "Admin dinas hanya dapat melihat statistik dinasnya sendiri.",
        "An agency admin sees their own agency's statistics only.",
    ),
    "stats_no_kelurahan": ("Di luar kelurahan mana pun", "Outside every kelurahan"),
    # Statuses as staff read them (the public labels join resolved and closed as "Selesai").
    "stats_status_submitted": ("Menunggu", "Waiting"),
    "stats_status_verified": ("Koordinasi (terverifikasi)", "Verified"),
    "stats_status_dispatched": ("Disposisi", "Dispatched"),
    "stats_status_in_progress": ("Proses", "In progress"),
    "stats_status_resolved": ("Selesai (menunggu konfirmasi)", "Resolved (awaiting confirmation)"),
    "stats_status_closed": ("Selesai (ditutup)", "Closed"),
    "stats_status_rejected": ("Ditolak", "Rejected"),
    "stats_status_duplicate": ("Digabung", "Merged"),
}
