# Ruby Net::SMTP client for samples/capture_clients.sh (set_debug_output $stderr).
# Environment: SMTP_HOST SMTP_PORT SMTP_TLS(starttls|auto|) SMTP_USER SMTP_PASSWORD SMTP_FROM SMTP_TO
require 'net/smtp'
require 'openssl'

message = <<~MSG
  From: #{ENV['SMTP_FROM']}
  To: #{ENV['SMTP_TO']}
  Subject: smtplog sample

  Hello Bob,
  .this line starts with a dot
  Bye
MSG

smtp = Net::SMTP.new(ENV['SMTP_HOST'], Integer(ENV['SMTP_PORT']))
smtp.set_debug_output $stderr
if ENV['SMTP_TLS'] == 'starttls'
  context = OpenSSL::SSL::SSLContext.new
  context.verify_mode = OpenSSL::SSL::VERIFY_NONE
  smtp.enable_starttls(context)
elsif ENV['SMTP_TLS'] != 'auto' # auto: net-smtp's default, STARTTLS when offered, verifying
  smtp.disable_starttls
end
smtp.open_timeout = 5
smtp.read_timeout = 5
user = ENV['SMTP_USER']
user = nil if user.nil? || user.empty?
smtp.start('client.example.test', user, user && ENV['SMTP_PASSWORD'], user && :plain) do |s|
  s.send_message(message, ENV['SMTP_FROM'], ENV['SMTP_TO'])
end
