#!/usr/bin/env bash
# Rewrites Sources/API/Session/PageAssets.swift's table from the files in Sources/API/Page/ (run it
# after adding or removing a page file; SwiftPM's embedInCode names each file's bytes
# PackageResources.<name with . and - as _>). SessionRouteTests checks that every file is served.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=Sources/API/Session/PageAssets.swift
{
  echo '/// The page'"'"'s files by name, from the code SwiftPM generates for `Sources/API/Page/`'
  echo '/// (`PackageResources`, one byte array per file). Written by `Tests/tools/page-assets.sh`; a'
  echo '/// unit test checks that every file of that directory is served.'
  echo 'enum PageAssets {'
  echo '    static let files: [String: PageRoutes.Asset] = {'
  echo '        let all: [(String, [UInt8])] = ['
  for f in $(ls Sources/API/Page | sort); do
    echo "            (\"$f\", PackageResources.$(echo "$f" | tr '.-' '__')),"
  done
  echo '        ]'
  echo '        var table: [String: PageRoutes.Asset] = [:]'
  echo '        for (name, bytes) in all {'
  echo '            table[name] = PageRoutes.Asset(bytes: bytes, contentType: PageRoutes.contentType(of: name))'
  echo '        }'
  echo '        return table'
  echo '    }()'
  echo '}'
} > "$out"
