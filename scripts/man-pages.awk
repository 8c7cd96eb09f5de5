# One man(3) page per function of include/dss/dss.h, from its doc comment (scripts/man-pages.sh
# runs this; docs/packaging.md). Deterministic: the same header gives the same pages, byte for
# byte, with the version (not a date) in the title line.
#   awk -v out=DIR -v version=X.Y.Z -f scripts/man-pages.awk include/dss/dss.h
# Understands the header's doc-comment tags: @param NAME text, @retval CODE text, @return text,
# @since X.Y; tags may share a line; a tag's continuation lines are indented.

function esc(s) {                      # roff-escape one line of text
    gsub(/\\/, "\\e", s)
    if (s ~ /^[.']/) s = "\\&" s
    return s
}
function trim(s) { sub(/^[ \t]+/, "", s); sub(/[ \t]+$/, "", s); return s }
function flush_tag() {
    if (tag == "") return
    ntag++; tkind[ntag] = tag; tname[ntag] = tagname; ttext[ntag] = trim(tagtext)
    tag = ""; tagname = ""; tagtext = ""
}
function add_text(s, indented) {       # s: a comment line's text, tags removed
    if (tag != "" && (indented || s == "")) {
        if (s != "") tagtext = tagtext " " trim(s)
        return
    }
    if (tag != "") flush_tag()
    if (ntag > 0) { after = after (after == "" ? "" : "\n") trim(s); return }
    desc = desc (desc == "" ? "" : "\n") trim(s)
}
function parse_line(line,    indented, rest, pos, word) {
    indented = (line ~ /^   /)         # continuation lines are indented under their tag
    rest = line
    while ((pos = match(rest, /@(param|retval|return|since)([ \t]|$)/)) > 0) {
        if (pos > 1) add_text(substr(rest, 1, pos - 1), indented)
        indented = 1
        flush_tag()
        rest = substr(rest, pos + 1)
        split(rest, parts, /[ \t]+/); tag = parts[1]
        rest = trim(substr(rest, length(tag) + 1))
        if (tag == "param" || tag == "retval") {
            # the name, or a list of names: "@param z_lo, z_hi segment ends"
            word = rest; sub(/[ \t].*/, "", word); tagname = word
            rest = trim(substr(rest, length(word) + 1))
            while (word ~ /,$/ && rest != "") {
                word = rest; sub(/[ \t].*/, "", word); tagname = tagname " " word
                rest = trim(substr(rest, length(word) + 1))
            }
        }
        # the tag's text runs to the next tag on this line
        if ((pos = match(rest, /@(param|retval|return|since)([ \t]|$)/)) > 0) {
            tagtext = trim(substr(rest, 1, pos - 1)); rest = substr(rest, pos)
        } else { tagtext = rest; rest = "" }
    }
    if (rest != "" || line == "") add_text(rest, indented)
}
function reset() { desc = ""; after = ""; ntag = 0; tag = ""; tagname = ""; tagtext = "" }
function section(kind, title,    i, n) {
    n = 0
    for (i = 1; i <= ntag; i++) if (tkind[i] == kind) n++
    if (n == 0) return 0
    if (title != "") print ".SH " title > file
    for (i = 1; i <= ntag; i++) {
        if (tkind[i] != kind) continue
        if (kind == "return") { print ".PP" > file; print esc(ttext[i]) > file; continue }
        print ".TP" > file
        print (kind == "param" ? ".I " : ".B ") tname[i] > file
        print esc(ttext[i]) > file
    }
    return n
}
function paragraphs(text,    lines, i, n) {
    n = split(text, lines, "\n")
    print ".PP" > file
    for (i = 1; i <= n; i++) {
        if (lines[i] == "") { if (i < n) print ".PP" > file; continue }
        print esc(lines[i]) > file
    }
}
function emit(decl,    name, brief, upper, since, i, n, see, seen, words, w) {
    name = decl; sub(/\(.*/, "", name); sub(/.*[ *]/, "", name)
    file = out "/" name ".3"
    brief = desc; gsub(/\n/, " ", brief); sub(/  .*/, "", brief)
    if (brief == "") for (i = 1; i <= ntag; i++) if (tkind[i] == "return") brief = "return " ttext[i]
    if (match(brief, /\. /)) brief = substr(brief, 1, RSTART)   # the first sentence
    sub(/\.$/, "", brief)
    upper = toupper(name)
    print ".\\\" Generated from include/dss/dss.h by scripts/man-pages.sh; do not edit." > file
    print ".TH " upper " 3 \"libdss " version "\" \"libdss " version "\" \"libdss manual\"" > file
    print ".SH NAME" > file
    print name " \\- " esc(brief) > file
    print ".SH SYNOPSIS" > file
    print ".nf" > file
    print ".B #include <dss/dss.h>" > file
    print ".PP" > file
    n = split(decl, words, ", ")
    line = ""
    for (i = 1; i <= n; i++) {
        w = words[i] (i < n ? "," : "")
        if (line != "" && length(line) + 1 + length(w) > 76) { print ".B \"" line "\"" > file; line = "        " w }
        else line = (line == "" ? w : line " " w)
    }
    print ".B \"" line "\"" > file
    print ".fi" > file
    print ".PP" > file
    print "Link with \\fI\\-ldss\\fP (\\fBpkg\\-config \\-\\-libs dss\\fP)." > file
    print ".SH DESCRIPTION" > file
    if (desc != "") paragraphs(desc)
    else print "See RETURN VALUE." > file
    section("param", "PARAMETERS")
    if (section("return", "RETURN VALUE") + 0 > 0) section("retval", "")
    else section("retval", "RETURN VALUE")
    if (after != "") paragraphs(after)
    since = ""
    for (i = 1; i <= ntag; i++) if (tkind[i] == "since") since = ttext[i]
    if (since != "") { print ".SH VERSIONS" > file; print "Added in libdss " esc(since) "." > file }
    # SEE ALSO: the overview, then the other functions the text names
    see = ".BR dss (3)"; split("", seen); seen[name] = 1
    w = desc " " after
    for (i = 1; i <= ntag; i++) w = w " " ttext[i]
    n = split(w, words, /[^a-z0-9_]+/)
    for (i = 1; i <= n; i++) {
        w = words[i]
        if (w ~ /^dss_[a-z0-9_]+$/ && (w in functions) && !(w in seen)) {
            seen[w] = 1; see = see ",\n.BR " w " (3)"
        }
    }
    print ".SH SEE ALSO" > file
    print see > file
    close(file)
    count++
}

FNR == NR {                            # first pass: the names of all functions
    if ($0 ~ /^DSS_API /) {
        s = $0; sub(/\(.*/, "", s); sub(/.*[ *]/, "", s); functions[s] = 1
    }
    next
}
incomment {
    line = $0
    closing = (line ~ /\*\//)
    sub(/\*\/.*/, "", line)
    sub(/^[ \t]*\* ?/, "", line)
    if (!(closing && trim(line) == "")) parse_line(line)
    if (closing) { flush_tag(); incomment = 0; havecomment = 1 }
    next
}
/^[ \t]*\/\*\*/ {
    reset()
    line = $0; sub(/^[ \t]*\/\*\*[ \t]*/, "", line)
    if (line ~ /\*\//) {               # one-line comment
        sub(/[ \t]*\*\/.*/, "", line); parse_line(line); flush_tag(); havecomment = 1; next
    }
    incomment = 1
    if (trim(line) != "") parse_line(line)
    next
}
indecl {
    decl = decl " " trim($0)
    if ($0 ~ /;/) { indecl = 0; sub(/;.*/, ";", decl); emit(decl) }
    next
}
/^DSS_API / {
    if (!havecomment) { print "man-pages: " $0 " has no doc comment" > "/dev/stderr"; bad = 1 }
    decl = $0; sub(/^DSS_API[ \t]+/, "", decl); decl = trim(decl)
    if (decl ~ /;/) { sub(/;.*/, ";", decl); emit(decl) } else indecl = 1
    havecomment = 0
    next
}
/^[ \t]*$/ { next }
{ havecomment = 0 }
END { exit bad }
