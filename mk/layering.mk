# lib/'s layering (docs/design.md): no call cycle between its files, from the objects' symbols
# (scripts/check-layering.sh prints the module graph). Part of make check.

.PHONY: check-layering

check-layering: $(LIB_OBJ)
	@sh scripts/check-layering.sh $(B)

CHECK_EXTRA += check-layering
