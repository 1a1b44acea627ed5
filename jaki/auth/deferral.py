"""Whether the token's user record is loaded when the token is verified (a key on flask.g).

Below jaki.api, so that what runs before a view's own check (jaki.idempotency names the caller) can verify a token
without loading the account the view loads again."""

DEFER_USER = "jaki_defer_user"  # True: current_user is a tokens.DeferredUser, the record loaded on first use
