"""A TCP server on loopback that accepts connections and never greets (timeout samples).

Usage: python3 silent_server.py PORT SECONDS
"""

import socket
import sys
import time

port, seconds = int(sys.argv[1]), float(sys.argv[2])
listener = socket.create_server(("127.0.0.1", port))
listener.settimeout(seconds)
held = []
deadline = time.monotonic() + seconds
while time.monotonic() < deadline:
    try:
        connection, _ = listener.accept()
        held.append(connection)
    except OSError:
        break
