// A real Node socket.io server, as the IDE (Theia) runs one: the end-to-end lab's Node backend.
// Environment: PORT, BACKEND_ID (answers the `whoami` event), SIO_PATH, PING_INTERVAL (seconds).
const http = require("http");
const { Server } = require("socket.io");

const id = process.env.BACKEND_ID || "node";
const server = http.createServer((req, res) => {
  res.writeHead(200, { "content-type": "text/html" });
  res.end("<!doctype html><title>IDE</title>");
});
const io = new Server(server, {
  path: "/" + (process.env.SIO_PATH || "theia/socket.io") + "/",
  pingInterval: 1000 * parseInt(process.env.PING_INTERVAL || "25", 10),
  pingTimeout: 5000,
  cors: { origin: "*" },
});
io.on("connection", (socket) => {
  socket.on("whoami", (ack) => typeof ack === "function" && ack(id));
});
server.listen(parseInt(process.env.PORT, 10), "127.0.0.1");
process.on("SIGTERM", () => io.close(() => process.exit(0)));
