"""Identity endpoints: /auth (register, OTP, login, refresh, logout), /me, /admin (staff, audit)."""

from __future__ import annotations

from flask import request
from flask_jwt_extended import current_user, get_jwt, verify_jwt_in_request
from flask_jwt_extended.exceptions import JWTExtendedException
from jwt.exceptions import PyJWTError

from jaki.api import API_PREFIX, Blueprint
from jaki.auth import nik as nik_mod
from jaki.auth import operations
from jaki.auth.crypto import cipher
from jaki.auth.permissions import login_required, roles_required
from jaki.auth.schemas import (
    AccessTokenSchema,
    AuditPageSchema,
    AuditQueryArgsSchema,
    DataExportSchema,
    LoginSchema,
    LogoutSchema,
    MePatchSchema,
    MeSchema,
    NikRevealSchema,
    NikSchema,
    OtpVerifySchema,
    PasswordChangeSchema,
    PasswordSchema,
    PersonSchema,
    RegisteredSchema,
    RegisterSchema,
    StaffCreateSchema,
    StatusSchema,
    TokenPairSchema,
)
from jaki.auth.tokens import rotate, user_record
from jaki.caching import cached_answer
from jaki.extensions import client_address, db, limiter
from jaki.pdp.scope import BREAK_GLASS_REASONS
from jaki.settings import setting

auth_blp = Blueprint("auth", __name__, url_prefix=f"{API_PREFIX}/auth", description="Akun dan token")
me_blp = Blueprint("me", __name__, url_prefix=f"{API_PREFIX}/me", description="Akun saya")
admin_blp = Blueprint("admin", __name__, url_prefix=f"{API_PREFIX}/admin", description="Administrasi")


def _account_key(nik) -> str:
    """Rate-limit key per account, hashed: limiter storage (Redis) must never hold a NIK."""
    # Normalised first: "3174 0541 ..." and "31740541..." are one NIK and share one budget.
    nik = nik_mod.normalize(str(nik)[:32])
    return "nik:" + cipher().blind_index(nik, "ratelimit")


def _nik_key() -> str:
    body = request.get_json(silent=True)
    return _account_key(body.get("nik", "") if isinstance(body, dict) else "")


def _signed_in_key() -> str:
    """The signed-in account's key, the same bucket its login uses: re-authentication and password change are
    password guesses too. Without a valid token the view answers 401; the client address keys that count."""
    try:
        verify_jwt_in_request()
    except (JWTExtendedException, PyJWTError):
        return "nik:anonymous:" + client_address()
    if current_user is None:
        return "nik:anonymous:" + client_address()
    return _account_key(current_user.nik)


def _client_rate() -> str:
    return setting("LOGIN_RATE_PER_CLIENT")


def _nik_rate() -> str:
    return setting("LOGIN_RATE_PER_NIK")


# Every password entry (login, re-authentication, password change) draws on the same two budgets.
_password_limits_per_client = limiter.shared_limit(_client_rate, scope="password-client")


def _password_limits_per_account(key_func):
    return limiter.shared_limit(_nik_rate, scope="password-account", key_func=key_func)


@auth_blp.route("/register", methods=["POST"])
@limiter.limit(_client_rate)
@auth_blp.arguments(RegisterSchema)
@auth_blp.response(201, RegisteredSchema, location=("me.get_me", {}))
def register(data):
    """Open an account with a NIK; a one-time code is sent to the phone."""
    user = operations.register(**data)
    return {"user_id": user.id, "status": user.status, "otp_sent_to": user.phone_masked}


@auth_blp.route("/otp/verify", methods=["POST"])
@limiter.limit(_client_rate)
@limiter.limit(_nik_rate, key_func=_nik_key)
@auth_blp.arguments(OtpVerifySchema)
@auth_blp.response(200, StatusSchema)
def verify_otp(data):
    """Verify the phone with the one-time code; the account becomes active."""
    user = operations.verify_phone(data["nik"], data["code"])
    return {"status": user.status}


@auth_blp.route("/otp/resend", methods=["POST"])
@limiter.limit(_client_rate)
@limiter.limit(_nik_rate, key_func=_nik_key)
@auth_blp.arguments(NikSchema)
@auth_blp.response(202, StatusSchema)
def resend_otp(data):
    """Send a new code if an unverified account exists (the answer never says whether it does)."""
    operations.resend_otp(data["nik"])
    return {"status": "accepted"}


@auth_blp.route("/login", methods=["POST"])
@_password_limits_per_client
@_password_limits_per_account(_nik_key)
@auth_blp.arguments(LoginSchema)
@auth_blp.response(200, TokenPairSchema)
def login(data):
    """Log in with NIK and password: a short-lived access token and a refresh token."""
    return operations.login(data["nik"], data["password"])


@auth_blp.route("/refresh", methods=["POST"])
@login_required(refresh=True)
@auth_blp.response(200, TokenPairSchema)
def refresh():
    """Exchange the refresh token (in the Authorization header) for a new pair; the old one is spent."""
    pair = rotate(get_jwt(), current_user)
    db.session.commit()
    return pair


@auth_blp.route("/reauthenticate", methods=["POST"])
@_password_limits_per_client
@_password_limits_per_account(_signed_in_key)
@login_required()
@auth_blp.arguments(PasswordSchema)
@auth_blp.response(200, AccessTokenSchema)
def reauthenticate(data):
    """Re-enter the password for a fresh access token (needed to see the full NIK or change the password)."""
    return operations.reauthenticate(current_user, data["password"])


@auth_blp.route("/logout", methods=["POST"])
@login_required()
@auth_blp.arguments(LogoutSchema)
@auth_blp.response(204)
def logout(data):
    """Revoke the access token and this login's refresh tokens."""
    operations.logout(get_jwt(), data.get("refresh_token"))


@me_blp.route("", methods=["GET"])
@login_required(load_user=False)
@cached_answer("me", "ME_ANSWER_SECONDS")
@me_blp.response(200, MeSchema)
def get_me():
    """My account (NIK masked)."""
    return user_record(current_user)


@me_blp.route("", methods=["PATCH"])
@login_required()
@me_blp.arguments(MePatchSchema)
@me_blp.response(200, MeSchema)
def patch_me(data):
    """Change my email or home kelurahan (identity fields come from Dukcapil and cannot be edited)."""
    return operations.update_profile(current_user, data)


@me_blp.route("/nik", methods=["GET"])
@login_required(fresh=True)
@me_blp.response(200, NikRevealSchema)
def reveal_nik():
    """My full NIK: needs a fresh token (log in or re-authenticate within the last minutes)."""
    return {"nik": current_user.nik}


@me_blp.route("/password", methods=["POST"])
@_password_limits_per_client
@_password_limits_per_account(_signed_in_key)
@login_required(fresh=True)
@me_blp.arguments(PasswordChangeSchema)
@me_blp.response(200, TokenPairSchema)
def change_password(data):
    """Change my password: every other session is logged out; this one gets new tokens."""
    return operations.change_password(current_user, data["current_password"], data["new_password"])


@me_blp.route("/data-export", methods=["GET"])
@login_required(fresh=True)
@me_blp.doc(responses={200: {"description": "OK", "content": {"application/json": {"schema": DataExportSchema}}}})
def data_export():
    """Everything jaki holds about me, as JSON (UU PDP right of access)."""
    return operations.data_export(current_user)


@admin_blp.route("/staff", methods=["POST"])
@roles_required("admin")
@admin_blp.arguments(StaffCreateSchema)
@admin_blp.response(201, PersonSchema, location=("admin.read_person", {"user_id": "id"}))
def create_staff(data):
    """Create an officer, agency admin, admin or command-center (read-only statistics) account."""
    return operations.create_staff(**data)


@admin_blp.route("/users/<string:user_id>", methods=["GET"])
@roles_required("officer", "agency_admin", "admin")
@admin_blp.doc(
    parameters=[
        {
            "in": "header",
            "name": "X-Access-Reason",
            "required": True,
            "schema": {"type": "string"},
            "description": "Why you need this person's data",
        },
        {
            "in": "header",
            "name": "X-Break-Glass",
            "required": False,
            "schema": {"type": "string", "enum": list(BREAK_GLASS_REASONS)},
            "description": "Outside my scope (need to know): the listed reason; reviewed by a supervisor",
        },
    ]
)
@admin_blp.response(200, PersonSchema)
def read_person(user_id):
    """Read a person's account data (audited: who, whose, what, when, why)."""
    return operations.read_person(
        current_user, user_id, request.headers.get("X-Access-Reason"), request.headers.get("X-Break-Glass")
    )


@admin_blp.route("/audit", methods=["GET"])
@roles_required("admin")
@admin_blp.arguments(AuditQueryArgsSchema, location="query")
@admin_blp.response(200, AuditPageSchema)
def audit_log(args):
    """The personal-data access log, newest first."""
    return operations.audit_log(
        subject_id=args["subject_id"], actor_id=args["actor_id"], limit=args["limit"], cursor=args["cursor"]
    )
