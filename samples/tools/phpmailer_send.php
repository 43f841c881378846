<?php
// PHPMailer client for samples/capture_clients.sh (Debian libphp-phpmailer).
// Settings come from the environment so the capture script can vary them:
// SMTP_HOST SMTP_PORT SMTP_SECURE(''|tls|ssl) SMTP_USER SMTP_PASSWORD SMTP_FROM SMTP_TO
// SMTP_DEBUG (1-4) SMTP_OUTPUT (echo|html)
require '/usr/share/php/libphp-phpmailer/autoload.php';

use PHPMailer\PHPMailer\PHPMailer;
use PHPMailer\PHPMailer\Exception;

$mail = new PHPMailer(true);
try {
    $mail->isSMTP();
    $mail->SMTPDebug = (int) getenv('SMTP_DEBUG');
    $mail->Debugoutput = getenv('SMTP_OUTPUT') ?: 'echo';
    $mail->Host = getenv('SMTP_HOST');
    $mail->Port = (int) getenv('SMTP_PORT');
    $mail->Timeout = 10;
    $secure = getenv('SMTP_SECURE');
    $mail->SMTPSecure = $secure ?: '';
    $mail->SMTPAutoTLS = $secure === 'tls';
    $mail->SMTPOptions = ['ssl' => ['verify_peer' => false, 'verify_peer_name' => false]];
    if (getenv('SMTP_USER')) {
        $mail->SMTPAuth = true;
        $mail->AuthType = getenv('SMTP_AUTHTYPE') ?: '';
        $mail->Username = getenv('SMTP_USER');
        $mail->Password = getenv('SMTP_PASSWORD');
    }
    $mail->setFrom(getenv('SMTP_FROM'), 'Alice');
    $mail->addAddress(getenv('SMTP_TO'));
    $mail->Subject = 'smtplog sample';
    $mail->Body = "Hello Bob,\n.this line starts with a dot\nBye\n";
    $mail->send();
    echo "Message has been sent\n";
} catch (Exception $e) {
    echo "Message could not be sent. Mailer Error: {$mail->ErrorInfo}\n";
}
