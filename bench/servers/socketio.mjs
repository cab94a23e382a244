// Socket.IO 4.8, websocket transport only. `?room=1` joins the room at connect.
import { createServer } from 'node:http';
import { Server } from 'socket.io';
import { memory, serve } from '../lib/proc.mjs';

const http = createServer();
const io = new Server(http, { transports: ['websocket'], serveClient: false });
io.on('connection', (socket) => {
  if (socket.handshake.query.room) socket.join('room');
  socket.on('pub', (d) => {
    d.from = socket.id;
    socket.to('room').emit('m', d); // every member but the sender, as a signal.publish
  });
  socket.on('dm', (d) => {
    d.from = socket.id;
    io.to(d.to).emit('dm', d);
  });
});
await new Promise((r) => http.listen(0, '127.0.0.1', r));
serve({ cpu: () => process.cpuUsage(), mem: () => memory(), stats: () => ({ sockets: io.engine.clientsCount }), exit: () => {} });
process.send({ ready: true, port: http.address().port });
