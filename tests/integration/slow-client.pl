#!/usr/bin/perl
# slow-client.pl - hostile and unlucky HTTP clients for tests: many sockets that trickle their
# request heads (slowloris), or one socket that trickles its head or its body, and what the
# server did about it. Loopback only; every run is bounded by --for seconds. Only perl-base.
#
#   slow-client.pl attack --to HOST:PORT [--count 1000] [--from 127.0.0.2-13] [--every 10]
#                         [--for 30] [--reconnect 0]
#       opens --count sockets, source addresses taken in turn from --from, each sending a
#       request line and then one header line every --every seconds; prints "opened N" once
#       they are open, and at the end "connects N closed N open N". A socket the server closes
#       is opened again while fewer than --reconnect reconnections were made.
#   slow-client.pl trickle --to HOST:PORT [--every 0.5] [--for 8] [--body N] [--path P]
#       one socket: a head of which one header line is sent every --every seconds, or (with
#       --body N) a whole head announcing N body bytes, then one body byte every --every
#       seconds; prints "closed after S s" (with the status line if one came first) or
#       "open after S s".
use strict;
use warnings;
use Getopt::Long;
use IO::Socket::INET;
use IO::Select;
use Time::HiRes qw(time sleep);

$SIG{PIPE} = 'IGNORE';
$| = 1;

my $mode = shift(@ARGV) // '';
my ($to, $count, $from, $every, $for, $reconnect, $body, $path) =
	(undef, 1000, '127.0.0.1', 10, 30, 0, undef, '/healthz');
GetOptions('to=s' => \$to, 'count=i' => \$count, 'from=s' => \$from, 'every=f' => \$every,
	   'for=f' => \$for, 'reconnect=i' => \$reconnect, 'body=i' => \$body, 'path=s' => \$path)
	or die "slow-client: bad arguments\n";
die "slow-client: --to HOST:PORT is needed\n" unless defined $to;
my ($host, $port) = $to =~ /^(.*):(\d+)$/ or die "slow-client: --to HOST:PORT\n";

my @sources;
if ($from =~ /^(\d+\.\d+\.\d+\.)(\d+)-(\d+)$/) {
	@sources = map { "$1$_" } $2 .. $3;
} else {
	@sources = ($from);
}
my $next_source = 0;
my $start = time;

sub open_one {
	my $src = $sources[$next_source++ % @sources];
	my $s = IO::Socket::INET->new(PeerAddr => $host, PeerPort => $port, LocalAddr => $src,
				      Proto => 'tcp', Timeout => 2) or return undef;
	$s->blocking(0);
	return $s;
}

if ($mode eq 'attack') {
	my (%socks, $connects, $closed);
	my $sel = IO::Select->new;
	my $open = sub {
		my $s = open_one() or return 0;
		syswrite($s, "GET $path HTTP/1.1\r\nHost: $host\r\n");
		$socks{fileno $s} = $s;
		$sel->add($s);
		$connects++;
		return 1;
	};
	my $lost = sub {
		my ($s) = @_;
		$sel->remove($s);
		delete $socks{fileno $s};
		close($s);
		$closed++;
	};
	for (1 .. $count) {
		last if time - $start > $for;
		$open->();
	}
	print "opened ", scalar(keys %socks), "\n";
	my ($line, $next_tick) = (0, time + $every);
	while ((my $now = time) - $start < $for) {
		my $wait = $next_tick - $now;
		$wait = 0 if $wait < 0;
		$wait = $start + $for - $now if $start + $for - $now < $wait;
		for my $s ($sel->can_read($wait)) {
			my $n = sysread($s, my $buf, 4096);
			$lost->($s) if !defined $n || $n == 0;
		}
		if (time >= $next_tick) {
			$line++;
			for my $s (values %socks) {
				my $n = syswrite($s, "X-Slow-$line: 1\r\n");
				$lost->($s) if !defined $n && !$!{EAGAIN};
			}
			$next_tick += $every;
		}
		while (keys(%socks) < $count && $connects - $count < $reconnect &&
		       time - $start < $for) {
			last unless $open->();
		}
	}
	printf "connects %d closed %d open %d\n", $connects // 0, $closed // 0, scalar(keys %socks);
	exit 0;
}

if ($mode eq 'trickle') {
	my $s = open_one() or die "slow-client: cannot connect to $to: $!\n";
	my ($got, $line, $next_tick) = ('', 0, time);
	if (defined $body) {
		syswrite($s, "POST $path HTTP/1.1\r\nHost: $host\r\nContent-Type: application/json\r\n" .
			 "Content-Length: $body\r\n\r\n");
		$next_tick += $every;
	} else {
		syswrite($s, "GET $path HTTP/1.1\r\nHost: $host\r\n");
	}
	my $sel = IO::Select->new($s);
	while ((my $now = time) - $start < $for) {
		my $wait = $next_tick - $now;
		$wait = 0 if $wait < 0;
		if ($sel->can_read($wait)) {
			my $n = sysread($s, my $buf, 4096);
			if (!defined $n || $n == 0) {
				my ($status) = $got =~ /^(HTTP\/1\.\d \d+)/;
				printf "closed after %.1f s%s\n", time - $start,
					$status ? " ($status)" : '';
				exit 0;
			}
			$got .= $buf;
		}
		if (time >= $next_tick) {
			$line++;
			syswrite($s, defined $body ? 'x' : "X-Slow-$line: 1\r\n");
			$next_tick += $every;
		}
	}
	printf "open after %.1f s\n", time - $start;
	exit 0;
}

die "slow-client: attack or trickle\n";
