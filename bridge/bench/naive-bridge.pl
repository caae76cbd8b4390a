#!/usr/bin/perl
# The naive baseline the benchmark compares dnssec2mqtt with: what a person would write in an
# afternoon. One UDP loop: answer each NOTIFY, then fork `dig` for the DNSKEY RRset and one
# `mosquitto_pub -r` per key. No state, no deduplication, one zone at a time.
#
#   naive-bridge.pl LISTEN_PORT DNS_PORT MQTT_PORT TOPIC_PREFIX
#
# Core Perl only (no Net::DNS): a NOTIFY reply is the request's header with QR set and the
# question echoed (RFC 1996 §4.7).
use strict;
use warnings;
use IO::Socket::INET;

my ($listen, $dns_port, $mqtt_port, $prefix) = @ARGV;
die "usage: $0 LISTEN_PORT DNS_PORT MQTT_PORT TOPIC_PREFIX\n" unless defined $prefix;
$| = 1;
my $sock = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => $listen, Proto => 'udp')
    or die "naive: cannot bind 127.0.0.1:$listen: $!\n";
print "naive: listening on 127.0.0.1:$listen\n";

while (1) {
    my $from = $sock->recv(my $pkt, 65535) or next;
    next if length($pkt) < 17;
    # qname: labels from offset 12
    my ($pos, @labels) = (12);
    while ($pos < length($pkt)) {
        my $len = ord(substr($pkt, $pos, 1));
        $pos++;
        last if $len == 0;
        push @labels, lc substr($pkt, $pos, $len);
        $pos += $len;
    }
    my $question = substr($pkt, 12, $pos + 4 - 12);
    my $flags = (unpack('n', substr($pkt, 2, 2)) | 0x8400) & 0xFFF0;   # QR, AA, NOERROR
    $sock->send(substr($pkt, 0, 2) . pack('nnnnn', $flags, 1, 0, 0, 0) . $question, 0, $from);
    my $zone = join('.', @labels);
    next if $zone eq '';
    my $out = `dig +norec +dnssec +tcp +multiline +nocmd +noall +answer \@127.0.0.1 -p $dns_port $zone DNSKEY 2>/dev/null`;
    while ($out =~ /\sDNSKEY\s+(\d+)\s+3\s+(\d+)\s+\((.*?)\)\s*;.*?key id = (\d+)/gs) {
        my ($keyflags, $alg, $key, $tag) = ($1, $2, $3, $4);
        $key =~ s/\s+//g;
        my $payload = qq({"zone":"$zone","keytag":$tag,"flags":$keyflags,"algorithm":$alg,"key":"$key"});
        system('mosquitto_pub', '-h', '127.0.0.1', '-p', $mqtt_port, '-q', '1', '-r',
               '-t', "$prefix/$zone/keys/$tag", '-m', $payload);
    }
}
