"""Python smtplib client for samples/capture_clients.sh.

Environment: SMTP_HOST SMTP_PORT SMTP_TLS(starttls|) SMTP_USER SMTP_PASSWORD SMTP_FROM
SMTP_TO SMTP_DEBUG (1|2) SMTP_BARE_LF (1: send the message as bytes with bare LF)
SMTP_TIMEOUT. Exceptions are left uncaught, as most scripts do: Python prints them.
"""

import os
import smtplib
import ssl
from email.message import EmailMessage

env = os.environ.get
server = smtplib.SMTP(timeout=float(env("SMTP_TIMEOUT", "10")))
server.set_debuglevel(int(env("SMTP_DEBUG", "1")))
server.connect(env("SMTP_HOST"), int(env("SMTP_PORT")))
server._host = env("SMTP_HOST")  # starttls() needs it; set by the constructor, not by connect()
server.ehlo("client.example.test")
if env("SMTP_TLS") == "starttls":
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    server.starttls(context=context)
    server.ehlo("client.example.test")
if env("SMTP_USER"):
    server.login(env("SMTP_USER"), env("SMTP_PASSWORD"))
if env("SMTP_BARE_LF") == "1":
    body = (
        b"From: alice@example.test\nTo: bob@example.test\nSubject: bare LF\n\n"
        b"This message uses bare LF line ends.\n.leading dot\n"
    )
    server.sendmail(env("SMTP_FROM"), [env("SMTP_TO")], body)
else:
    message = EmailMessage()
    message["From"] = env("SMTP_FROM")
    message["To"] = env("SMTP_TO")
    message["Subject"] = "smtplog sample"
    message.set_content("Hello Bob,\n.this line starts with a dot\nBye\n")
    server.send_message(message)
server.quit()
