// Nodemailer client for samples/capture_clients.sh (logger: true, debug: true).
// Environment: SMTP_HOST SMTP_PORT SMTP_TLS(starttls|ssl|) SMTP_USER SMTP_PASSWORD SMTP_FROM
// SMTP_TO (comma separated) SMTP_AUTHMETHOD SMTP_PARALLEL (N concurrent connections)
const nodemailer = require('nodemailer');

const env = process.env;
function transport() {
  const options = {
    host: env.SMTP_HOST,
    port: Number(env.SMTP_PORT),
    secure: env.SMTP_TLS === 'ssl',
    requireTLS: env.SMTP_TLS === 'starttls',
    ignoreTLS: !env.SMTP_TLS,
    name: 'client.example.test',
    tls: { rejectUnauthorized: false },
    connectionTimeout: 5000,
    greetingTimeout: 5000,
    logger: true,
    debug: true,
  };
  if (env.SMTP_USER) {
    options.auth = { user: env.SMTP_USER, pass: env.SMTP_PASSWORD };
    if (env.SMTP_AUTHMETHOD) options.authMethod = env.SMTP_AUTHMETHOD;
  }
  return nodemailer.createTransport(options);
}

async function send(index) {
  const info = await transport().sendMail({
    from: env.SMTP_FROM,
    to: env.SMTP_TO.split(',')[index % env.SMTP_TO.split(',').length],
    subject: 'smtplog sample',
    text: 'Hello Bob,\n.this line starts with a dot\nBye\n',
  });
  console.log('Message sent: %s', info.messageId);
}

const parallel = Number(env.SMTP_PARALLEL || 1);
Promise.all([...Array(parallel).keys()].map(send)).catch((error) => {
  console.error('Error: ' + error.message);
  process.exitCode = 1;
});
