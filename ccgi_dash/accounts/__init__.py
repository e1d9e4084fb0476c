"""Accounts: the server side of signing in, one module per concern.

No Streamlit here: the command line that manages users and the web app share this package,
and everything security-relevant can be tested without a browser. ``ccgi_dash.ui.login`` is
the thin Streamlit side. Import the module you need (``from ccgi_dash.accounts import
signin``); this package re-exports nothing, so each name has one home.

=============  ==========================================================================
module         concern
=============  ==========================================================================
``users``      the users file: ``User`` records, parsing, validation, locked atomic writes
``passwords``  password rules, bcrypt hashing and a constant-work check
``cookies``    the HMAC session cookie and the cookie-key checks
``registry``   ``logs/sessions.sqlite``, the file sessions and lockout share
``sessions``   server-side sessions: create, look up, touch, end
``lockout``    failed sign-ins and the lock they set
``audit``      the audit log: write (scrubbed of PII), read from the end, the admin table
``signin``     ``login``, ``validate_session``, ``scope_for``: the above tied together
``actions``    one function per account action (disable, reset, set role, ...): record,
               sessions and audit line together; the ``users`` CLI calls these
``config``     environment settings (lockout and session limits), the refusal message
``errors``     ``UsersError``, ``UsersFileError``, ``UsersBusy``
=============  ==========================================================================

Why not streamlit-authenticator's ``Authenticate`` (0.4.2, read from its source):

* ``check_credentials`` returns at once for an unknown username but runs bcrypt for a known
  one, so response time tells an attacker which accounts exist; ``max_login_attempts`` raises
  a different message, only for existing accounts, and keeps its counter in the credentials
  dict (lost when the config is reloaded, never reset with time otherwise);
* its cookie is a JWT of ``{username, exp_date}`` signed with a key that defaults to
  ``some_key``; re-authentication trusts any such cookie, so a copied cookie keeps working
  after logout, and a password reset cannot revoke it;
* given a path it rewrites the YAML file on every login, failure and logout;
* ``roles`` are only copied into ``st.session_state``; password hints are shown.

Making it safe would mean replacing its ``login``, its cookie model and its failure counter,
i.e. everything it does, so the sign-in form is our own (``ui/login.py``) and this package
does the rest. What we keep from it: the bcrypt hash format (``$2b$``, cost 12) its
``Hasher`` reads and writes, so hashes move both ways, and the cookie component it sets
cookies with (``extra_streamlit_components``' cookie manager, used by ``ui/login.py``).

How the pieces hold together: a session is valid only while it exists, is not ended, is not
idle too long or too old, and its user exists, is enabled and still has the
``session_epoch`` the session was created under. Sign-out ends the session; a password
reset, disabling a user and ``users end-sessions`` bump the epoch *and* end every session, so
a copied cookie stops working even if the registry were lost. An unknown user, a wrong
password, a disabled user and a locked name get the same message after the same bcrypt work.
"""
