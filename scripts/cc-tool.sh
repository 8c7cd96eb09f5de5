#!/bin/sh
# Print the binutils program TOOL (ar, gcc-ar, ...) that goes with the compiler CC: a cross gcc
# names its own (/usr/s390x-linux-gnu/bin/ar); otherwise TOOL itself, or "ar" as a last resort.
#   usage: scripts/cc-tool.sh CC TOOL
cc=$1 tool=$2
p=$($cc -print-prog-name="$tool" 2>/dev/null)
case "$p" in
    /*) [ -x "$p" ] && { echo "$p"; exit 0; } ;;
    ?*) command -v "$p" >/dev/null 2>&1 && { echo "$p"; exit 0; } ;;
esac
command -v "$tool" >/dev/null 2>&1 && { echo "$tool"; exit 0; }
echo ar
