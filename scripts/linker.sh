#!/bin/sh
# The linker cargo calls on x86_64 Linux (see .cargo/config.toml): the C
# compiler, with two choices it makes for the machine it runs on.
#
# - mold when it is installed (Debian's `mold` package puts its `ld` in
#   /usr/libexec/mold; -B works with every gcc and clang): the suite's large
#   debug binaries link in a fraction of GNU ld's time.
# - Relative relocations packed (DT_RELR) when this machine's glibc can load
#   them (2.36 on) and the linker can write them: the program starts with
#   about 1.5 MB less resident memory, for it no longer keeps a megabyte of
#   relocation records (BENCHMARKS.md). Elsewhere the program is linked as
#   before.
ld_dir=""
if [ -x /usr/libexec/mold/ld ]; then
  ld_dir=/usr/libexec/mold
  linker=/usr/libexec/mold/ld
else
  linker=ld
fi
relr=""
glibc=$(getconf GNU_LIBC_VERSION 2>/dev/null | sed -n 's/^glibc //p')
if [ -n "$glibc" ] && [ "$(printf '2.36\n%s\n' "$glibc" | sort -V | head -n 1)" = "2.36" ] \
  && "$linker" --help 2>/dev/null | grep -q pack-relative-relocs; then
  relr="-Wl,-z,pack-relative-relocs"
fi
exec cc ${ld_dir:+-B"$ld_dir"} $relr "$@"
