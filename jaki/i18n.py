"""Message catalogue: Indonesian by default, English when Accept-Language asks for it."""

from __future__ import annotations

from flask import has_request_context, request

DEFAULT_LANGUAGE = "id"
LANGUAGES = ("id", "en")

# code -> (Indonesian, English). Codes are stable API contract; texts may change.
MESSAGES: dict[str, tuple[str, str]] = {
    "bad_request": ("Permintaan tidak valid.", "The request is not valid."),
    "validation_error": ("Data yang dikirim tidak valid.", "The submitted data is not valid."),
    "unauthorized": ("Silakan masuk terlebih dahulu.", "Please log in first."),
    "token_invalid": ("Token tidak valid.", "The token is not valid."),
    "token_expired": ("Sesi Anda telah berakhir. Silakan masuk kembali.", "Your session has expired."),
    "token_revoked": ("Token telah dicabut. Silakan masuk kembali.", "The token has been revoked."),
    "fresh_token_required": (
        "Demi keamanan, masukkan kembali kata sandi Anda.",
        "For your security, please enter your password again.",
    ),
    "forbidden": ("Anda tidak memiliki akses untuk tindakan ini.", "You are not allowed to do this."),
    "not_found": ("Data tidak ditemukan.", "Not found."),
    "method_not_allowed": ("Metode tidak diizinkan.", "Method not allowed."),
    "conflict": ("Data bertentangan dengan data yang sudah ada.", "Conflicts with existing data."),
    "precondition_failed": (
        "Data telah diubah oleh orang lain. Muat ulang lalu coba lagi.",
        "The data was changed by someone else. Reload and try again.",
    ),
    "precondition_required": ("Header If-Match wajib diisi.", "The If-Match header is required."),
    "payload_too_large": ("Ukuran data terlalu besar.", "The request body is too large."),
    "uri_too_long": ("Alamat (URL) permintaan terlalu panjang.", "The request URL is too long."),
    "headers_too_large": ("Header permintaan terlalu banyak atau terlalu besar.", "The request headers are too large."),
    "http_version_not_supported": ("Versi HTTP tidak didukung.", "HTTP version not supported."),
    "unsupported_media_type": ("Jenis konten tidak didukung.", "Unsupported content type."),
    "rate_limited": (
        "Terlalu banyak permintaan. Coba lagi nanti.",
        "Too many requests. Please try again later.",
    ),
    "internal_error": (
        "Terjadi kesalahan pada sistem. Silakan coba lagi.",
        "Something went wrong on our side. Please try again.",
    ),
    "service_unavailable": (
        "Layanan sedang tidak tersedia. Silakan coba lagi.",
        "The service is unavailable. Please try again.",
    ),
    # NIK
    "nik_format": ("NIK harus terdiri dari 16 angka.", "A NIK has exactly 16 digits."),
    "nik_province_unknown": ("Kode provinsi pada NIK tidak dikenal.", "Unknown province code in the NIK."),
    "nik_region_unknown": (
        "Kode kota/kecamatan pada NIK tidak dikenal.",
        "Unknown kota/kecamatan code in the NIK.",
    ),
    "nik_birth_date_invalid": (
        "Tanggal lahir pada NIK tidak valid.",
        "The birth date in the NIK is not a real date.",
    ),
    "nik_birth_date_future": (
        "Tanggal lahir pada NIK berada di masa depan.",
        "The birth date in the NIK is in the future.",
    ),
    "nik_serial_zero": ("Nomor urut pada NIK tidak boleh 0000.", "The NIK serial may not be 0000."),
    "nik_birth_date_mismatch": (
        "Tanggal lahir tidak sesuai dengan NIK.",
        "The birth date does not match the NIK.",
    ),
    # Accounts
    "nik_not_in_registry": (
        "NIK tidak ditemukan di data kependudukan (Dukcapil) atau data tidak cocok.",
        "The NIK was not found in the population registry, or the details do not match.",
    ),
    "account_exists": ("NIK ini sudah terdaftar.", "An account already exists for this NIK."),
    "login_failed": ("NIK atau kata sandi salah.", "Wrong NIK or password."),
    "account_locked": (
        "Terlalu banyak percobaan masuk. Coba lagi dalam {seconds} detik.",
        "Too many failed logins. Try again in {seconds} seconds.",
    ),
    "account_inactive": ("Akun tidak aktif.", "The account is not active."),
    "phone_not_verified": (
        "Nomor ponsel belum diverifikasi.",
        "The phone number has not been verified yet.",
    ),
    "otp_invalid": ("Kode OTP salah atau sudah kedaluwarsa.", "The code is wrong or has expired."),
    "otp_too_many_attempts": (
        "Terlalu banyak percobaan. Minta kode baru.",
        "Too many attempts. Request a new code.",
    ),
    "otp_resend_too_soon": (
        "Tunggu {seconds} detik sebelum meminta kode baru.",
        "Wait {seconds} seconds before requesting a new code.",
    ),
    "password_weak": (
        "Kata sandi minimal 10 karakter dan tidak boleh sama dengan NIK atau nomor ponsel.",
        "The password needs at least 10 characters and may not equal the NIK or phone.",
    ),
    "password_wrong": ("Kata sandi lama salah.", "The current password is wrong."),
    "phone_invalid": (
        "Nomor ponsel tidak valid (contoh: 081234567890).",
        "Not a valid Indonesian mobile number (e.g. 081234567890).",
    ),
    "role_invalid": ("Peran tidak valid untuk tindakan ini.", "Invalid role for this action."),
    "agency_unknown": ("Dinas tidak dikenal.", "Unknown agency."),
    "area_unknown": ("Wilayah tidak dikenal.", "Unknown area."),
    "reason_required": ("Alasan akses wajib diisi.", "A reason for access is required."),
    "reason_too_long": ("Alasan akses maksimal {max} karakter.", "A reason for access has at most {max} characters."),
}


def current_language() -> str:
    if not has_request_context():
        return DEFAULT_LANGUAGE
    best = request.accept_languages.best_match(LANGUAGES, default=DEFAULT_LANGUAGE)
    return best or DEFAULT_LANGUAGE


def translate(code: str, language: str | None = None, **params) -> str:
    language = language or current_language()
    texts = MESSAGES.get(code)
    if texts is None:
        return code
    text = texts[1] if language == "en" else texts[0]
    return text.format(**params) if params else text


def register(messages: dict[str, tuple[str, str]]) -> None:
    """Domains add their own messages at import; a clash is a programming error."""
    for code, texts in messages.items():
        if code in MESSAGES and MESSAGES[code] != texts:
            raise ValueError(f"message code {code!r} registered twice with different texts")
        MESSAGES[code] = texts


class Message(str):
    """A message that is a catalogue code: its text is the English one (what marshmallow would say, for logs and
    code that compares messages), and every answer resolves it in the language asked (resolve). marshmallow
    formats its messages with str.format: this keeps the code and the parameters for the answer."""

    code: str
    params: dict

    def __new__(cls, text: str, code: str, params: dict | None = None):
        message = super().__new__(cls, text)
        message.code = code
        message.params = params or {}
        return message

    def format(self, *args, **kwargs):
        return Message(str.format(self, *args, **kwargs), self.code, {**self.params, **kwargs})

    def __reduce__(self):
        return Message, (str(self), self.code, self.params)


def message(code: str, **params) -> Message:
    """A catalogue message to raise now and resolve in the reader's language when answered."""
    return Message(translate(code, "en", **params), code, params)


def template(code: str) -> Message:
    """A catalogue message marshmallow fills in (its {min}, {max}, {choices}) before it is resolved."""
    return Message(MESSAGES[code][1], code)


def resolve(value, language: str | None = None):
    """Messages (in dicts and lists, as field errors nest) in the reader's language; other text as it is."""
    if isinstance(value, Message):
        return translate(value.code, language, **value.params)
    if isinstance(value, dict):
        return {key: resolve(item, language) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [resolve(item, language) for item in value]
    return value
