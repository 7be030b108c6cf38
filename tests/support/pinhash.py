"""pinhash.py - staff PIN hashes for the integration tests, in the kiosk's format
(firmware/pin.h): "pbkdf2-sha256$ITERATIONS$SALT$KEY", salt and key in base64, a 32-byte key.
The kiosk refuses fewer than 1,000 iterations; the tests use 1,000 so that start-up stays quick
under ASan."""
import base64
import hashlib
import os


def pin_hash(pin, iterations=1000, salt=None):
    """Returns the hash of pin (a string of digits) with salt (bytes; None: 16 random bytes)."""
    salt = os.urandom(16) if salt is None else salt
    key = hashlib.pbkdf2_hmac("sha256", pin.encode(), salt, iterations, 32)
    return "pbkdf2-sha256$%d$%s$%s" % (iterations, base64.b64encode(salt).decode(),
                                       base64.b64encode(key).decode())


def pin_matches(pin, hashed):
    """Returns True when hashed is a well-formed hash of pin (checks a hash another program made)."""
    parts = hashed.split("$")
    if len(parts) != 4 or parts[0] != "pbkdf2-sha256" or not parts[1].isdigit():
        return False
    try:
        salt = base64.b64decode(parts[2], validate=True)
    except ValueError:
        return False
    return pin_hash(pin, int(parts[1]), salt) == hashed
