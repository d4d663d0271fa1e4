cmd_Release/obj.target/dgram.node := g++ -o Release/obj.target/dgram.node -shared -pthread -rdynamic -m64  -Wl,-soname=dgram.node -Wl,--start-group Release/obj.target/dgram/dgram.o -Wl,--end-group 
