#!/usr/bin/perl
# slow-source.pl - a source server that never finishes: every GET gets a 100 MB body trickled at
# 2 KiB/s (above libcurl's give-up speed of 1 KB/s, so a download never ends by itself while a
# suite runs), a quarter of a second per 512-byte chunk so a client that hangs up frees it at
# once. Loopback only; exits after LIFE seconds whatever happens. Only perl-base.
#
#   slow-source.pl [--parallel] [--log FILE] PORTFILE LIFE
#       writes its port to PORTFILE (atomically, once it listens); logs "GET PATH" per request
#       to FILE; serves one client at a time, or each in its own process with --parallel.
use strict;
use warnings;
use Getopt::Long;
use IO::Socket::INET;

my ($parallel, $logfile) = (0, undef);
GetOptions('parallel' => \$parallel, 'log=s' => \$logfile) or die "usage: $0 [--parallel] [--log FILE] PORTFILE LIFE\n";
my ($portfile, $life) = @ARGV;
die "usage: $0 [--parallel] [--log FILE] PORTFILE LIFE\n" unless defined $life;

my $srv = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0, Listen => 16, ReuseAddr => 1)
	or die "listen: $!";
$SIG{ALRM} = sub { exit 0 };
alarm $life;
$SIG{PIPE} = 'IGNORE';
$SIG{CHLD} = 'IGNORE' if $parallel;
open(my $pf, '>', "$portfile.tmp") or die "$portfile.tmp: $!";
print $pf $srv->sockport, "\n";
close $pf;
rename "$portfile.tmp", $portfile or die "$portfile: $!";

sub serve {
	my ($c) = @_;
	$c->autoflush(1);
	my $req = '';
	while (defined(my $l = <$c>)) { $req .= $l; last if $l =~ /^\r?\n$/; }
	my ($path) = $req =~ m{^GET (\S+)};
	if (defined $logfile) {
		open(my $lf, '>>', $logfile) or die "$logfile: $!";
		print $lf "GET ", $path // '?', "\n";
		close $lf;
	}
	print $c "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n",
		"Content-Length: 100000000\r\nConnection: close\r\n\r\n";
	while (print $c ("\0" x 512)) { select(undef, undef, undef, 0.25); }
	close $c;
}

while (my $c = $srv->accept) {
	if ($parallel) {
		if (fork) { close $c; next; }
		serve($c);
		exit 0;
	}
	serve($c);
}
