cmd_Release/dgram.node := ln -f "Release/obj.target/dgram.node" "Release/dgram.node" 2>/dev/null || (rm -rf "Release/dgram.node" && cp -af "Release/obj.target/dgram.node" "Release/dgram.node")
