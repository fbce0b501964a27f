#!/usr/bin/perl
# dhcp-probe.pl - what a PXE client sees, for tests: broadcast one DHCPDISCOVER (vendor class,
# client architecture, user class as given) on an interface that needs no address, and print
# every reply on one line; or, like a PXE ROM after the proxyDHCP menu, send a DHCPREQUEST for
# a boot item to port 4011 of a server. Only perl-base (Essential on Debian) is needed.
#
#   dhcp-probe.pl --iface eth0 [--vendor PXEClient:Arch:00000:UNDI:002001] [--arch 0]
#                 [--userclass iPXE] [--wait 4]
#   dhcp-probe.pl --iface eth0 --request SERVER --ciaddr ADDR [--item 8000:0000] [--arch 0] ...
#
# A reply: "OFFER server=192.0.2.1 yiaddr=0.0.0.0 siaddr=192.0.2.1 file=undionly.kpxe
# vendor=PXEClient menu=8000:tinyboot BIOS control=3" (fields absent from the packet are left out).
use strict;
use warnings;
use Getopt::Long;
use Socket qw(:DEFAULT inet_aton inet_ntoa);

my ($iface, $vendor, $arch, $userclass, $wait) = ('eth0', 'PXEClient:Arch:00000:UNDI:002001', 0, undef, 4);
my ($request, $ciaddr, $item);
GetOptions('iface=s' => \$iface, 'vendor=s' => \$vendor, 'arch=i' => \$arch,
	   'userclass=s' => \$userclass, 'wait=f' => \$wait, 'request=s' => \$request,
	   'ciaddr=s' => \$ciaddr, 'item=s' => \$item) or die "dhcp-probe: bad arguments\n";

open(my $fh, '<', "/sys/class/net/$iface/address") or die "dhcp-probe: no interface $iface\n";
chomp(my $mac_text = <$fh>);
close($fh);
(my $mac = $mac_text) =~ s/://g;
$mac = pack('H12', $mac);
my $xid = int(rand(0xffffffff));

sub opt { my ($code, $data) = @_; return pack('CC', $code, length($data)) . $data; }

sub packet {
	my ($type, $ci, $extra) = @_;
	my $p = pack('CCCCNnn', 1, 1, 6, 0, $xid, 0, 0x8000) . inet_aton($ci) . ("\0" x 12)
		. $mac . ("\0" x 10) . ("\0" x 64) . ("\0" x 128) . pack('N', 0x63825363);
	$p .= opt(53, pack('C', $type));
	$p .= opt(55, pack('C*', 1, 3, 6, 43, 54, 60, 66, 67, 97, 175));
	$p .= opt(60, $vendor);
	$p .= opt(93, pack('n', $arch));
	$p .= opt(94, pack('CCC', 1, 2, 1));
	$p .= opt(97, "\0" . ("\x11" x 16));
	$p .= opt(77, $userclass) if defined $userclass;
	$p .= $extra // '';
	$p .= "\xff";
	$p .= "\0" x (300 - length($p)) if length($p) < 300;
	return $p;
}

# The options of a packet from offset 240: code => value.
sub options {
	my ($data, $i) = ($_[0], 240);
	my %o;
	while ($i < length($data)) {
		my $c = ord(substr($data, $i, 1));
		last if $c == 255;
		if ($c == 0) { $i++; next; }
		my $l = ord(substr($data, $i + 1, 1));
		$o{$c} = substr($data, $i + 2, $l);
		$i += 2 + $l;
	}
	return %o;
}

sub show {
	my ($data) = @_;
	return if length($data) < 240 || ord($data) != 2;
	my (undef, undef, undef, undef, $rxid) = unpack('CCCCN', $data);
	return if $rxid != $xid;
	my $yi = inet_ntoa(substr($data, 16, 4));
	my $si = inet_ntoa(substr($data, 20, 4));
	(my $file = substr($data, 108, 128)) =~ s/\0.*//s;
	my %o = options($data);
	my %types = (2 => 'OFFER', 5 => 'ACK', 6 => 'NAK');
	my @out = ($types{ord($o{53} // "\0")} // 'REPLY');
	push @out, 'server=' . inet_ntoa($o{54}) if defined $o{54} && length($o{54}) == 4;
	push @out, "yiaddr=$yi", "siaddr=$si";
	# asked for option 67 (as PXE ROMs do), dnsmasq may move the file name there
	$file = $o{67} =~ s/\0.*//sr if !length($file) && defined $o{67};
	push @out, "file=$file" if length $file;
	push @out, "vendor=$o{60}" if defined $o{60};
	push @out, 'router=' . inet_ntoa($o{3}) if defined $o{3} && length($o{3}) == 4;
	if (defined $o{43}) {
		my %sub = options(("\0" x 240) . $o{43});
		push @out, 'control=' . ord($sub{6}) if defined $sub{6};
		if (defined $sub{9}) {
			my ($m, @items) = ($sub{9});
			while (length $m >= 3) {
				my ($type, $len) = unpack('nC', $m);
				push @items, sprintf('%04x:%s', $type, substr($m, 3, $len));
				$m = substr($m, 3 + $len);
			}
			push @out, 'menu=' . join(',', @items);
		}
	}
	print join(' ', @out), "\n";
}

socket(my $s, PF_INET, SOCK_DGRAM, getprotobyname('udp')) or die "dhcp-probe: socket: $!\n";
setsockopt($s, SOL_SOCKET, SO_REUSEADDR, 1) or die "dhcp-probe: SO_REUSEADDR: $!\n";
setsockopt($s, SOL_SOCKET, SO_BROADCAST, 1) or die "dhcp-probe: SO_BROADCAST: $!\n";
setsockopt($s, SOL_SOCKET, 25, pack('Z16', $iface)) or die "dhcp-probe: SO_BINDTODEVICE: $!\n";
bind($s, sockaddr_in(68, INADDR_ANY)) or die "dhcp-probe: bind 68: $!\n";
if (defined $request) {
	my $extra = '';
	$extra = opt(43, opt(71, pack('H8', $item =~ s/://r)) . "\xff") if defined $item;
	send($s, packet(3, $ciaddr // '0.0.0.0', $extra), 0, sockaddr_in(4011, inet_aton($request)))
		or die "dhcp-probe: send: $!\n";
} else {
	send($s, packet(1, '0.0.0.0', ''), 0, sockaddr_in(67, INADDR_BROADCAST))
		or die "dhcp-probe: send: $!\n";
}
$| = 1;
my $end = time() + $wait;
while ((my $left = $end - time()) > 0) {
	my $rin = '';
	vec($rin, fileno($s), 1) = 1;
	next unless select(my $rout = $rin, undef, undef, $left > 0.2 ? 0.2 : $left);
	my $data;
	recv($s, $data, 2048, 0) or next;
	show($data);
}
