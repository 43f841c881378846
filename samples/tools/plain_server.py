"""aiosmtpd on loopback without STARTTLS (openssl's "Didn't find STARTTLS" sample).

Usage: python3 plain_server.py PORT SECONDS   (needs aiosmtpd: the project's test extra)
"""

import sys
import time

from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Sink

controller = Controller(Sink(), hostname="127.0.0.1", port=int(sys.argv[1]))
controller.start()
time.sleep(float(sys.argv[2]))
controller.stop()
