# Signs the context a portal embeds a Rapport survey in. Python 3, standard library only.
import hashlib
import hmac


def sign_context(secret, survey, account, email, expires, matter="", name=""):
    message = "\n".join(["rapport-portal-v1", survey, account, matter, name, email, str(expires)])
    return hmac.new(bytes.fromhex(secret), message.encode("utf-8"), hashlib.sha256).hexdigest()
