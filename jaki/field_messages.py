"""marshmallow's messages from the catalogue: every field and validator of a jaki schema speaks in catalogue codes."""

# marshmallow says "Missing data for required field." in English whatever the reader asked. jaki.api's InputRules
# hands every field of every jaki schema to apply() at bind time, which swaps each default message it knows for a
# catalogue template (jaki.i18n.Message): the text stays marshmallow's English (code comparing messages and logs
# see what they always saw), and the error envelope resolves it in the language asked. A message this table does
# not know is left alone and caught by tests/test_translations.py, which walks every error in both languages.

from __future__ import annotations

import marshmallow as ma

from jaki.i18n import Message, register, template

V = ma.validate

register(
    {
        "field_required": ("Wajib diisi.", "Missing data for required field."),
        "field_unknown": ("Kolom tidak dikenal.", "Unknown field."),
        "field_null": ("Tidak boleh kosong.", "Field may not be null."),
        "field_input_type": ("Jenis data tidak valid.", "Invalid input type."),
        "field_invalid": ("Nilai tidak valid.", "Invalid value."),
        "field_not_string": ("Harus berupa teks.", "Not a valid string."),
        "field_not_utf8": ("Teks bukan UTF-8 yang valid.", "Not a valid utf-8 string."),
        "field_not_integer": ("Harus berupa bilangan bulat.", "Not a valid integer."),
        "field_not_number": ("Harus berupa angka.", "Not a valid number."),
        "field_number_too_large": ("Angka terlalu besar.", "Number too large."),
        "field_number_special": (
            "Nilai khusus (nan atau tak hingga) tidak diizinkan.",
            "Special numeric values (nan or infinity) are not permitted.",
        ),
        "field_not_boolean": ("Harus berupa ya/tidak (true/false).", "Not a valid boolean."),
        "field_not_date": ("Tanggal tidak valid (format YYYY-MM-DD).", "Not a valid date."),
        "field_not_datetime": ("Waktu tidak valid (format ISO 8601).", "Not a valid {obj_type}."),
        "field_datetime_awareness": (
            "Waktu harus menyertakan zona waktu (format ISO 8601).",
            "Not a valid {awareness} {obj_type}.",
        ),
        "field_not_email": ("Alamat email tidak valid.", "Not a valid email address."),
        "field_not_url": ("Alamat URL tidak valid.", "Not a valid URL."),
        "field_not_list": ("Harus berupa daftar.", "Not a valid list."),
        "field_not_object": ("Harus berupa objek.", "Not a valid mapping type."),
        "field_not_nested": ("Harus berupa objek.", "Invalid type."),
        "field_not_uuid": ("ID tidak valid.", "Not a valid UUID."),
        "field_not_duration": ("Durasi tidak valid.", "Not a valid period of time."),
        "field_one_of": ("Harus salah satu dari: {choices}.", "Must be one of: {choices}."),
        "field_pattern": ("Format tidak sesuai.", "String does not match expected pattern."),
        "field_equal": ("Harus sama dengan {other}.", "Must be equal to {other}."),
        "field_length_min": ("Minimal {min} karakter.", "Shorter than minimum length {min}."),
        "field_length_max": ("Maksimal {max} karakter.", "Longer than maximum length {max}."),
        "field_length_between": ("Panjang harus antara {min} dan {max}.", "Length must be between {min} and {max}."),
        "field_length_equal": ("Panjang harus {equal}.", "Length must be {equal}."),
        "field_range_min": ("Minimal {min}.", "Must be greater than or equal to {min}."),
        "field_range_above": ("Harus lebih dari {min}.", "Must be greater than {min}."),
        "field_range_max": ("Maksimal {max}.", "Must be less than or equal to {max}."),
        "field_range_below": ("Harus kurang dari {max}.", "Must be less than {max}."),
        "field_range_between": (
            "Harus antara {min} dan {max}.",
            "Must be greater than or equal to {min} and less than or equal to {max}.",
        ),
        "field_range_between_open": (
            "Harus di antara {min} dan {max}.",
            "Must be between {min} and {max} (bounds excluded where the field says so).",
        ),
        "field_list_too_long": (
            "Terlalu banyak nilai, atau ada nilai yang terlalu panjang.",
            "Too many or too long values.",
        ),
    }
)

# marshmallow's default texts (fields' error_messages, whatever class says them) -> catalogue code.
_FIELD_TEXTS = {
    "Missing data for required field.": "field_required",
    "Field may not be null.": "field_null",
    "Invalid value.": "field_invalid",
    "Not a valid string.": "field_not_string",
    "Not a valid utf-8 string.": "field_not_utf8",
    "Not a valid integer.": "field_not_integer",
    "Not a valid number.": "field_not_number",
    "Number too large.": "field_number_too_large",
    "Special numeric values (nan or infinity) are not permitted.": "field_number_special",
    "Not a valid boolean.": "field_not_boolean",
    "Not a valid date.": "field_not_date",
    "Not a valid {obj_type}.": "field_not_datetime",
    "Not a valid {awareness} {obj_type}.": "field_datetime_awareness",
    "Not a valid email address.": "field_not_email",
    "Not a valid URL.": "field_not_url",
    "Not a valid list.": "field_not_list",
    "Not a valid tuple.": "field_not_list",
    "Not a valid mapping type.": "field_not_object",
    "Invalid type.": "field_not_nested",
    "Not a valid UUID.": "field_not_uuid",
    "Not a valid period of time.": "field_not_duration",
    "Must be one of: {choices}.": "field_one_of",
}

SCHEMA_MESSAGES = {"unknown": template("field_unknown"), "type": template("field_input_type")}


def _range_messages(validator: V.Range) -> dict:
    low = "field_range_min" if validator.min_inclusive else "field_range_above"
    high = "field_range_max" if validator.max_inclusive else "field_range_below"
    both = "field_range_between" if validator.min_inclusive and validator.max_inclusive else "field_range_between_open"
    return {"message_min": template(low), "message_max": template(high), "message_all": template(both)}


def _validator_messages(validator) -> dict:
    if isinstance(validator, V.Length):
        return {
            "message_min": template("field_length_min"),
            "message_max": template("field_length_max"),
            "message_all": template("field_length_between"),
            "message_equal": template("field_length_equal"),
        }
    if isinstance(validator, V.Range):
        return _range_messages(validator)
    for kind, code in (
        (V.OneOf, "field_one_of"),
        (V.ContainsOnly, "field_one_of"),
        (V.Regexp, "field_pattern"),
        (V.Email, "field_not_email"),
        (V.URL, "field_not_url"),
        (V.Equal, "field_equal"),
    ):
        if isinstance(validator, kind):
            return {"error": template(code)}
    return {}


def apply(field: ma.fields.Field) -> None:
    """The field's and its validators' messages as catalogue templates (idempotent; custom messages are kept when
    they are catalogue messages already)."""
    field.error_messages = {
        key: template(_FIELD_TEXTS[text])
        if isinstance(text, str) and not isinstance(text, Message) and text in _FIELD_TEXTS
        else text
        for key, text in field.error_messages.items()
    }
    for validator in field.validators:
        for attribute, message in _validator_messages(validator).items():
            current = getattr(validator, attribute, None)
            if attribute == "error" and current is not None and current != getattr(validator, "default_message", None):
                continue  # the schema's own message (a catalogue Message, tests/test_translations.py checks)
            setattr(validator, attribute, message)
