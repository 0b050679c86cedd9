#!/bin/sh
# Run a Windows program of the cross build under Wine 8 by hand, with a private
# prefix and no debug noise. The DLL (libwac-0.dll) is found beside the program
# or through WINEPATH, e.g. WINEPATH='Z:\\work\\wac\\build-win'.
#   WINEPREFIX  default: $XDG_CACHE_HOME/wac-wine (or ~/.cache/wac-wine)
#   WINEDEBUG   default: -all
: "${WINEPREFIX:=${XDG_CACHE_HOME:-$HOME/.cache}/wac-wine}"
: "${WINEDEBUG:=-all}"
export WINEPREFIX WINEDEBUG
mkdir -p "$WINEPREFIX"
exec /usr/lib/wine/wine64 "$@"
