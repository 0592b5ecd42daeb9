// The socket.io peer: the benchmark's room on Node.js socket.io, doing what our server does
// (number the message, broadcast it to the room, acknowledge it). Run by bench/peers.py:
//   NODE_PATH=<folder with socket.io> node socketio_server.js <port>
"use strict";

const { Server } = require("socket.io");

const port = Number(process.argv[2]);
const io = new Server(port, {
  transports: ["websocket"],
  perMessageDeflate: false,
  maxHttpBufferSize: 64 * 1024,
});
const user = { id: 1, name: "bench" };
let seq = 0;

io.on("connection", (socket) => {
  socket.join("bench");
  socket.on("message", (message, ack) => {
    seq += 1;
    const event = {
      seq,
      kind: "message",
      id: seq,
      user,
      text: String(message.text),
      ts: new Date().toISOString(),
    };
    io.to("bench").emit("event", event);
    if (typeof ack === "function") {
      ack({ seq, id: seq });
    }
  });
});
console.log(`socket.io listening on ${port}`);
