#!/bin/sh
# The slider program as a person sees it: run it in a detached 80 x 24 tmux session, send keys,
# capture the pane, and check the screen: the layout fits, the slider line and the iteration
# counter follow the keys, the image changes when the slider moves and comes back on undo, a
# narrow window gets a message, and q or Ctrl-C give the shell back with the terminal settings it
# had (compared with `stty -g`) and its screen restored.
# Needs tmux (Debian `tmux`): installed when missing and run as root, else the command is printed;
# with DSS_NO_APT=1 (make DEPS=no) the test is skipped, saying why, and apt-get never runs.
# usage: tests/slider/tmux.sh path/to/slider
set -u
prog=${1:?usage: tmux.sh path/to/slider}
prog=$(cd "$(dirname "$prog")" && pwd)/$(basename "$prog")

if ! command -v tmux >/dev/null 2>&1; then
    if [ "${DSS_NO_APT:-0}" = 1 ]; then
        echo "check-slider: tmux session: skipped: tmux is not installed; not installing it" \
             "(DSS_NO_APT=1): apt-get install -y tmux"
        exit 0
    elif [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "check-slider: installing tmux from Debian's archive"
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq tmux >/dev/null ||
            { echo "check-slider: apt-get install tmux failed" >&2; exit 1; }
    else
        echo "check-slider: the tmux test needs tmux. Install it with:" >&2
        echo "    sudo apt-get install -y tmux" >&2
        exit 1
    fi
fi

tmp=$(mktemp -d)
# a private server (its own socket, no configuration file), so that a user's tmux is untouched
T() { tmux -u -S "$tmp/sock" -f /dev/null "$@"; }
trap 'T kill-server 2>/dev/null; rm -rf "$tmp"' EXIT

fails=0; checks=0
ok()   { checks=$((checks + 1)); }
fail() {
    checks=$((checks + 1)); fails=$((fails + 1))
    echo "check-slider: FAIL: $*" >&2
    echo "---- the screen:" >&2; screen >&2; echo "----" >&2
}
screen() { T capture-pane -p -t slider 2>/dev/null; }
line() { screen | sed -n "$1p"; }
image() { T capture-pane -e -p -t slider -S 2 -E 19; } # rows 3..20, with their colours
wait_for() { # wait_for TEXT: up to 10 s for TEXT to be on the screen
    i=0
    while [ $i -lt 100 ]; do
        screen | grep -qF -- "$1" && return 0
        sleep 0.1; i=$((i + 1))
    done
    return 1
}
expect() { if wait_for "$1"; then ok; else fail "${2:-no '$1' on the screen}"; fi; }
absent() { if screen | grep -qF -- "$1"; then fail "'$1' is still on the screen"; else ok; fi; }

# The pane runs this: a marker line, the terminal settings before and after the program, its exit
# status, then an interactive shell. The settings after are written (atomically) before the exit
# status is printed, so that seeing "slider exit=" on the screen means the file is complete. The INT trap keeps the script going after Ctrl-C.
cat > "$tmp/pane.sh" <<EOF
trap 'echo "(the shell saw SIGINT)"' INT
echo "before the slider"
stty -g > "$tmp/stty.before"
"$prog" --out "$tmp/out" --seed 3
status=\$?
stty -g > "$tmp/stty.after.part" && mv "$tmp/stty.after.part" "$tmp/stty.after"
echo "slider exit=\$status"
PS1='$ ' exec sh -i
EOF
start() {
    rm -f "$tmp/stty.before" "$tmp/stty.after"
    T new-session -d -s slider -x 80 -y 24 "sh $tmp/pane.sh"
    expect "iteration 0" "the slider did not start"
}
tty_restored() {
    if [ -s "$tmp/stty.after" ] && cmp -s "$tmp/stty.before" "$tmp/stty.after"; then ok
    else fail "the terminal settings after $1 differ from before (stty -g)"; fi
}

# 1. The first screen fits 80 x 24: title on row 1, image rows, slider on row 22, keys on row 24.
start
case $(line 1) in *"libdss slider"*"seed 3"*) ok ;; *) fail "row 1 is not the title" ;; esac
case $(line 3) in *"▀▀▀▀"*"iteration 0"*) ok ;; *) fail "row 3: no image or no iteration" ;; esac
case $(line 5) in *"σ = "*"σ₁ = "*) ok ;; *) fail "row 5: no singular value" ;; esac
case $(line 22) in " slider t = 0.500  0 [--------------------█--------------------] 1") ok ;;
    *) fail "row 22 is not the slider in the middle" ;; esac
case $(line 24) in *"Enter commit"*"u undo"*"q quit") ok ;; *) fail "row 24: no key help" ;; esac
before=$(image)

# 2. Three steps right: the slider line follows, and so does the image.
T send-keys -t slider Right Right Right
expect "slider t = 0.575  0 [--------------------|--█-----------------] 1"
moved=$(image)
if [ "$moved" != "$before" ]; then ok; else fail "the image did not change with the slider"; fi

# 3. Enter commits: iteration 1, slider back in the middle. u undoes: iteration 0, same image.
T send-keys -t slider Enter
expect "iteration 1"
expect "committed t = 0.575: iteration 1, Jacobian recomputed"
expect "slider t = 0.500"
T send-keys -t slider u
expect "undone: back to iteration 0"
expect "iteration 0"
if [ "$(image)" = "$before" ]; then ok; else fail "after undo the image is not the start image"; fi

# 4. n draws another direction; s saves the image.
T send-keys -t slider n
expect "another direction: v"
T send-keys -t slider s
expect "saved $tmp/out/slider-001.pgm"
if [ "$(head -n 2 "$tmp/out/slider-001.pgm" 2>/dev/null | tr '\n' ' ')" = "P5 36 36 " ]; then ok
else fail "the saved image is not a 36 x 36 PGM"; fi

# 5. A window narrower than 80 columns gets a message; back at 80 x 24 the screen returns.
T resize-window -t slider -x 70 -y 24
expect "needs an 80 x 24 terminal; this one is 70 x 24"
T resize-window -t slider -x 80 -y 24
expect "iteration 0"

# 6. q quits: exit status 0, terminal settings as before, the shell's screen back, echo works.
T send-keys -t slider q
expect "slider exit=0"
tty_restored "q"
expect "before the slider" "the shell's screen was not restored (alternate screen not left)"
absent "Enter commit"
T send-keys -t slider "echo typed-back" Enter
if wait_for "typed-back" && screen | grep -qx "typed-back"; then ok
else fail "the shell does not answer after the slider quit"; fi
T kill-session -t slider

# 7. Ctrl-C: the program dies of SIGINT (status 130) and still restores the terminal.
start
T send-keys -t slider Right C-c
expect "slider exit=130"
tty_restored "Ctrl-C"
expect "before the slider"
absent "Enter commit"

if [ "$fails" -eq 0 ]; then
    echo "check-slider: tmux session: $checks checks passed"
else
    echo "check-slider: tmux session: $fails of $checks checks failed" >&2
    exit 1
fi
