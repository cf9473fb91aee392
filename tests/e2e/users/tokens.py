"""Tokens an attacker (or an external identity provider) makes, for the user pool tests.

  tokens.py pool-key DB POOL CLAIMS       ES256, signed with POOL's current key read from DB
  tokens.py none CLAIMS KID               alg none, no signature
  tokens.py hs256 PUBLIC_PEM CLAIMS KID   HS256 keyed with a public key's PEM text
  tokens.py provider DIR                  a new RSA key: DIR/key.pem and DIR/jwks.json (kid "corp-1")
  tokens.py rs256 DIR CLAIMS KID          RS256 with DIR/key.pem
  tokens.py jwk-pem JWKS_JSON             the first key of a JWKS as a PEM public key

CLAIMS is a JSON object; "exp": "now+N" or "now-N" and "iat"/"nbf" alike are made relative
to the current time. Prints the token.
"""
import base64
import hashlib
import hmac
import json
import sqlite3
import sys
import time

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, utils


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def claims_of(text):
    claims = json.loads(text)
    for name in ("exp", "iat", "nbf"):
        value = claims.get(name)
        if isinstance(value, str) and value.startswith("now"):
            claims[name] = int(time.time()) + int(value[3:] or 0)
    return claims


def signing_input(header, claims):
    return b64(json.dumps(header).encode()) + "." + b64(json.dumps(claims).encode())


def es256(key, kid, claims):
    message = signing_input({"alg": "ES256", "typ": "JWT", "kid": kid}, claims)
    r, s = utils.decode_dss_signature(key.sign(message.encode(), ec.ECDSA(hashes.SHA256())))
    return message + "." + b64(r.to_bytes(32, "big") + s.to_bytes(32, "big"))


def main(command, *args):
    if command == "pool-key":
        db, pool, claims = args
        row = sqlite3.connect(db).execute(
            "SELECT kid, private_pem FROM signing_keys WHERE pool = ? AND retired_us IS NULL", (pool,)).fetchone()
        key = serialization.load_pem_private_key(row[1].encode(), None)
        return es256(key, row[0], claims_of(claims))
    if command == "none":
        claims, kid = args
        return signing_input({"alg": "none", "kid": kid}, claims_of(claims)) + "."
    if command == "hs256":
        pem, claims, kid = args
        message = signing_input({"alg": "HS256", "typ": "JWT", "kid": kid}, claims_of(claims))
        return message + "." + b64(hmac.new(pem.encode(), message.encode(), hashlib.sha256).digest())
    if command == "provider":
        (directory,) = args
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        with open(directory + "/key.pem", "wb") as out:
            out.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                        serialization.NoEncryption()))
        numbers = key.public_key().public_numbers()
        jwk = {"kty": "RSA", "kid": "corp-1", "alg": "RS256", "use": "sig",
               "n": b64(numbers.n.to_bytes(256, "big")), "e": b64(numbers.e.to_bytes(3, "big"))}
        with open(directory + "/jwks.json", "w") as out:
            json.dump({"keys": [jwk]}, out)
        return "corp-1"
    if command == "rs256":
        directory, claims, kid = args
        with open(directory + "/key.pem", "rb") as source:
            key = serialization.load_pem_private_key(source.read(), None)
        message = signing_input({"alg": "RS256", "typ": "JWT", "kid": kid}, claims_of(claims))
        return message + "." + b64(key.sign(message.encode(), padding.PKCS1v15(), hashes.SHA256()))
    if command == "jwk-pem":
        jwk = json.loads(args[0])["keys"][0]
        numbers = ec.EllipticCurvePublicNumbers(int.from_bytes(unb64(jwk["x"]), "big"),
                                                int.from_bytes(unb64(jwk["y"]), "big"), ec.SECP256R1())
        return numbers.public_key().public_bytes(serialization.Encoding.PEM,
                                                 serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    raise SystemExit("unknown command " + command)


if __name__ == "__main__":
    print(main(*sys.argv[1:]))
