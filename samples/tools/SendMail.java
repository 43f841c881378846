// JavaMail client for samples/capture_clients.sh (Debian libmail-java, javax.mail 1.6.5).
// Environment: SMTP_HOST SMTP_PORT SMTP_TLS(starttls|ssl|) SMTP_USER SMTP_PASSWORD SMTP_FROM SMTP_TO
import java.util.Properties;
import javax.mail.Authenticator;
import javax.mail.Message;
import javax.mail.PasswordAuthentication;
import javax.mail.Session;
import javax.mail.Transport;
import javax.mail.internet.InternetAddress;
import javax.mail.internet.MimeMessage;

public class SendMail {
    public static void main(String[] args) throws Exception {
        String user = System.getenv("SMTP_USER");
        String password = System.getenv("SMTP_PASSWORD");
        String tls = System.getenv().getOrDefault("SMTP_TLS", "");
        Properties props = new Properties();
        props.put("mail.smtp.host", System.getenv("SMTP_HOST"));
        props.put("mail.smtp.port", System.getenv("SMTP_PORT"));
        props.put("mail.smtp.localhost", "client.example.test");
        props.put("mail.smtp.connectiontimeout", "5000");
        props.put("mail.smtp.timeout", "5000");
        props.put("mail.smtp.ssl.trust", "*");
        if (tls.equals("starttls")) {
            props.put("mail.smtp.starttls.enable", "true");
            props.put("mail.smtp.starttls.required", "true");
        } else if (tls.equals("ssl")) {
            props.put("mail.smtp.ssl.enable", "true");
        }
        Session session;
        if (user != null && !user.isEmpty()) {
            props.put("mail.smtp.auth", "true");
            session = Session.getInstance(props, new Authenticator() {
                protected PasswordAuthentication getPasswordAuthentication() {
                    return new PasswordAuthentication(user, password);
                }
            });
        } else {
            session = Session.getInstance(props);
        }
        session.setDebug(true);
        MimeMessage message = new MimeMessage(session);
        message.setFrom(new InternetAddress(System.getenv("SMTP_FROM")));
        message.setRecipients(Message.RecipientType.TO, InternetAddress.parse(System.getenv("SMTP_TO")));
        message.setSubject("smtplog sample");
        message.setText("Hello Bob,\n.this line starts with a dot\nBye\n");
        Transport.send(message);
    }
}
