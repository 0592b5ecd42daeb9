// The socket.io peer: the benchmark's room on Node.js socket.io, doing what our server does
// (number the message, broadcast it to the room, acknowledge it). Run by bench/peers.py:
//   NODE_PATH=<folder with socket.io> node socketio_server.js <port>
// With REDIS_URL (and REDIS_KEY, the pub/sub channel prefix of one run), several processes
// share the room through socket.io's Redis adapter (@socket.io/redis-adapter), as our daphne
// processes share it through the Redis channel layer.
"use strict";

const { Server } = require("socket.io");

const port = Number(process.argv[2]);
const user = { id: 1, name: "bench" };
let seq = 0;

async function adapter() {
  if (!process.env.REDIS_URL) return undefined;
  const { createClient } = require("redis");
  const { createAdapter } = require("@socket.io/redis-adapter");
  const publisher = createClient({ url: process.env.REDIS_URL });
  const subscriber = publisher.duplicate();
  await Promise.all([publisher.connect(), subscriber.connect()]);
  return createAdapter(publisher, subscriber, { key: process.env.REDIS_KEY || "socket.io" });
}

async function main() {
  const io = new Server(port, {
    // SOCKETIO_TRANSPORTS=polling,websocket: viewers over Engine.IO's long-polling too.
    transports: (process.env.SOCKETIO_TRANSPORTS || "websocket").split(","),
    perMessageDeflate: false,
    maxHttpBufferSize: 64 * 1024,
    adapter: await adapter(),
  });
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
  console.log(`socket.io listening on ${port}${process.env.REDIS_URL ? " with the Redis adapter" : ""}`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
