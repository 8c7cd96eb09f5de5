# The interactive slider program (examples/slider/) and its tests; included by the Makefile.
#
#   make slider         build $(B)/examples/slider/slider (also part of `make` / `make examples`)
#   make check-slider   a scripted session (tests/slider/scripted.sh) and a tmux session
#                       (tests/slider/tmux.sh; needs Debian's tmux, installed when missing and
#                       root, else the command to run is printed)
#
# examples/slider/ is a directory, not an examples/*.c file: it is POSIX-terminal code in three
# files, so check-installed (which builds each examples/*.c alone) does not take it.

SLIDER_SRC := $(wildcard examples/slider/*.c)
SLIDER_HDR := $(wildcard examples/slider/*.h)
SLIDER     := $(B)/examples/slider/slider

.PHONY: slider check-slider check-slider-scripted check-slider-tmux

slider: $(SLIDER)
examples: $(SLIDER)

$(SLIDER): $(SLIDER_SRC) $(SLIDER_HDR) $(STATIC) include/dss/dss.h
	@mkdir -p $(@D)
	$(CC) $(EX_CFLAGS) $(SLIDER_SRC) $(STATIC) -o $@ $(LINK_LIBS)

check-slider: check-slider-scripted check-slider-tmux

check-slider-scripted: $(SLIDER)
	@sh tests/slider/scripted.sh $(SLIDER)

check-slider-tmux: $(SLIDER)
	@sh tests/slider/tmux.sh $(SLIDER)

CHECK_EXTRA += check-slider
