#!/usr/bin/perl
# Verifies DKIM signatures with Mail::DKIM (Debian's libmail-dkim-perl), an
# implementation independent of bulletin's and of dkimpy, against key
# records given on the command line instead of the DNS:
#
#     dkim_verify.pl --key NAME=VALUE [--key NAME=VALUE...] FILE...
#
# NAME is a record's name (`sel._domainkey.example.org`), VALUE its text
# (`v=DKIM1; k=rsa; p=...`), both as `bulletin check` prints them. A lookup
# of any other name finds nothing. Prints one JSON object per file, in order:
#
#     {"file": ..., "verified": true|false, "result": "pass"|"fail"|...,
#      "detail": "...", "algorithm": "rsa-sha256", "ed25519": true|false}
#
# `ed25519` says whether this Mail::DKIM can verify Ed25519 signatures at
# all (version 1.20230630 and later; Debian 12 has 1.20230212).
use strict;
use warnings;

use Getopt::Long;
use JSON::PP;
use Mail::DKIM::Verifier;
use Net::DNS;

my @keys;
GetOptions( 'key=s' => \@keys ) or die "usage: $0 --key NAME=VALUE... FILE...\n";
@ARGV or die "usage: $0 --key NAME=VALUE... FILE...\n";

my %records;
for my $key (@keys) {
    my ( $name, $value ) = split /=/, $key, 2;
    defined $value or die "--key $name: no =VALUE\n";
    $name =~ s/\.$//;
    $records{ lc $name } = $value;
}

# The records in place of the DNS: Mail::DKIM asks this one function.
{
    no warnings 'redefine';
    *Mail::DKIM::DNS::query = sub {
        my ( $domain, $type ) = @_;
        ( my $name = lc $domain ) =~ s/\.$//;
        my $value = $records{$name};
        if ( !defined $value || uc $type ne 'TXT' ) {
            $@ = 'NXDOMAIN';
            return;
        }
        # Strings of at most 255 characters, as a zone holds a long record.
        my @strings = unpack '(A255)*', $value;
        return Net::DNS::RR->new( name => $domain, type => 'TXT', txtdata => \@strings );
    };
}

my $ed25519 = eval { require Mail::DKIM::Algorithm::ed25519_sha256; 1 } ? JSON::PP::true : JSON::PP::false;
my $json = JSON::PP->new->canonical;
$| = 1;

for my $path (@ARGV) {
    my %result = ( file => $path, verified => JSON::PP::false, ed25519 => $ed25519 );
    eval {
        open my $fh, '<:raw', $path or die "cannot open: $!\n";
        my $verifier = Mail::DKIM::Verifier->new();
        while ( my $line = <$fh> ) {
            # Mail::DKIM wants CRLF line ends, as on the wire.
            $line =~ s/\r?\n\z/\r\n/;
            $verifier->PRINT($line);
        }
        $verifier->CLOSE;
        close $fh;
        $result{result} = $verifier->result;
        $result{detail} = $verifier->result_detail;
        my $signature = $verifier->signature;
        $result{algorithm} = $signature ? $signature->algorithm : '';
        $result{verified}  = $verifier->result eq 'pass' ? JSON::PP::true : JSON::PP::false;
        1;
    } or do {
        $result{result} = 'error';
        $result{detail} = "$@";
    };
    print $json->encode( \%result ), "\n";
}
