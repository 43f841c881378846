#!/usr/bin/perl
# Perl Net::SMTP client for samples/capture_clients.sh (Debug => 1).
# Environment: SMTP_HOST SMTP_PORT SMTP_TLS(starttls|) SMTP_USER SMTP_PASSWORD SMTP_FROM SMTP_TO
use strict;
use warnings;
use Net::SMTP;

my $smtp = Net::SMTP->new($ENV{SMTP_HOST}, Port => $ENV{SMTP_PORT}, Hello => 'client.example.test',
                          Timeout => 3, Debug => 1)
  or die "Cannot connect to $ENV{SMTP_HOST}:$ENV{SMTP_PORT}: $@\n";
if (($ENV{SMTP_TLS} // '') eq 'starttls') {
  $smtp->starttls(SSL_verify_mode => 0) or die "STARTTLS failed: " . $smtp->message;
}
if ($ENV{SMTP_USER}) {
  $smtp->auth($ENV{SMTP_USER}, $ENV{SMTP_PASSWORD}) or die "AUTH failed: " . $smtp->message;
}
$smtp->mail($ENV{SMTP_FROM}) or die "MAIL FROM failed: " . $smtp->message;
$smtp->to($ENV{SMTP_TO}) or die "RCPT TO failed: " . $smtp->message;
$smtp->data();
$smtp->datasend("From: $ENV{SMTP_FROM}\nTo: $ENV{SMTP_TO}\nSubject: smtplog sample\n\n");
$smtp->datasend("Hello Bob,\n.this line starts with a dot\nBye\n");
$smtp->dataend() or die "DATA failed: " . $smtp->message;
$smtp->quit;
