#!/usr/bin/env bash
# Builds the DocC documentation of every Swift module under Sources/ into one archive and fails on
# any DocC warning (broken links, wrong parameter lists) or any public symbol without a doc comment.
#
#   tools/docs/build_docs.sh                 # archive in .build-docs/BNN.doccarchive
#   BNN_DOCS_SCRATCH=DIR tools/docs/build_docs.sh
#
# Steps (see Documentation/README.md):
#   1. a debug build of the modules with symbol graphs, in its own scratch path so the release test
#      build stays valid;
#   2. tools/docs/check_doc_coverage.swift: every public symbol declared in source has a `///` comment;
#   3. tools/docs/check_snippets.swift: code blocks marked `<!-- snippet: NAME -->` in the articles equal
#      the regions `// snippet: NAME` … `// end-snippet` of the tests that compile and run them;
#   4. the catalog Documentation/BNN.docc plus each module's own Sources/<Module>/<Module>.docc (copied
#      into a sub-folder), converted with `docc convert --warnings-as-errors` against the symbol graphs
#      of all modules, so articles can link to any module's symbols.
set -euo pipefail
cd "$(dirname "$0")/../.."

scratch="${BNN_DOCS_SCRATCH:-.build-docs}"
case "$scratch" in /*) ;; *) scratch="$PWD/$scratch" ;; esac
graphs="$scratch/symbol-graphs"
docc_bin="$(command -v docc || echo "$(dirname "$(command -v swift)")/docc")"

# The documented modules: every target of Package.swift in a folder of Sources/ with Swift files (C
# targets have no symbol graph; a folder not yet declared as a target is skipped).
modules=()
for dir in Sources/*/; do
    name="$(basename "$dir")"
    if grep -q "name: \"$name\"" Package.swift && [ -n "$(find "$dir" -name '*.swift' -print -quit)" ]; then
        modules+=("$name")
    fi
done
echo "build_docs: modules ${modules[*]}"

# 1. Symbol graphs of the documented modules (and the modules they depend on; executables and tests
#    are not built). An up-to-date module is not recompiled and keeps its graph from the last build.
mkdir -p "$graphs"
for module in "${modules[@]}"; do
    swift build --scratch-path "$scratch" --target "$module" \
        -Xswiftc -emit-symbol-graph -Xswiftc -emit-symbol-graph-dir -Xswiftc "$graphs"
done
for module in "${modules[@]}"; do
    if [ ! -f "$graphs/$module.symbols.json" ]; then
        echo "build_docs: no symbol graph for $module in $graphs; remove $scratch and run again" >&2
        exit 1
    fi
done

# 2. Doc-comment coverage.
checker="$scratch/check-doc-coverage"
if [ ! -x "$checker" ] || [ tools/docs/check_doc_coverage.swift -nt "$checker" ]; then
    swiftc -O tools/docs/check_doc_coverage.swift -o "$checker"
fi
"$checker" "$graphs" "${modules[@]}"

# 3. Code blocks of the articles against the tested code they show.
snippets="$scratch/check-snippets"
if [ ! -x "$snippets" ] || [ tools/docs/check_snippets.swift -nt "$snippets" ]; then
    swiftc -O tools/docs/check_snippets.swift -o "$snippets"
fi
mapfile -t snippet_files < <(grep -rl --include='*.swift' '// snippet:' Tests)
"$snippets" Documentation/BNN.docc "${snippet_files[@]}"

# 4. The combined catalog and the archive.
work="$scratch/docc-input"
rm -rf "$work"
mkdir -p "$work/symbol-graphs"
cp -R Documentation/BNN.docc "$work/BNN.docc"
for module in "${modules[@]}"; do
    cp "$graphs/$module.symbols.json" "$work/symbol-graphs/"
    for extension in "$graphs/$module"@*.symbols.json; do
        if [ -f "$extension" ]; then cp "$extension" "$work/symbol-graphs/"; fi
    done
    if [ -d "Sources/$module/$module.docc" ]; then
        mkdir -p "$work/BNN.docc/$module"
        cp -R "Sources/$module/$module.docc/." "$work/BNN.docc/$module/"
        rm -f "$work/BNN.docc/$module/Info.plist"
    fi
done
rm -rf "$scratch/BNN.doccarchive"
"$docc_bin" convert "$work/BNN.docc" \
    --additional-symbol-graph-dir "$work/symbol-graphs" \
    --output-dir "$scratch/BNN.doccarchive" \
    --fallback-display-name BNN --fallback-bundle-identifier org.bnn.BNN \
    --warnings-as-errors
echo "build_docs: documentation in $scratch/BNN.doccarchive"
