// Bare `ws` baselines speaking the same JSON-RPC frames as ours (join, publish, send):
//   --mode string: JSON.stringify once per fan-out, then ws.send(string) to each member (peer b);
//   --mode frame:  build the whole WebSocket frame once and write those bytes to each socket (peer c).
import { createServer } from 'node:http';
import { WebSocketServer, Sender } from 'ws';
import { memory, serve } from '../lib/proc.mjs';

const mode = process.argv.includes('frame') ? 'frame' : 'string';
const http = createServer();
const wss = new WebSocketServer({ server: http, perMessageDeflate: false, clientTracking: false });
const room = new Set();
const byAddr = new Map();
let seq = 0;

const broadcast = (text, except) => {
  if (mode === 'string') {
    for (const c of room) if (c !== except) c.send(text);
    return;
  }
  const frame = Buffer.concat(Sender.frame(Buffer.from(text), { fin: true, opcode: 1, mask: false, readOnly: false, rsv1: false }));
  for (const c of room) if (c !== except) c._socket.write(frame);
};

wss.on('connection', (ws) => {
  const addr = `u/d/${(seq++).toString(36)}`;
  byAddr.set(addr, ws);
  ws.on('message', (data) => {
    let m;
    try {
      m = JSON.parse(data.toString());
    } catch {
      return;
    }
    const p = m.params ?? {};
    if (m.method === 'signal.publish') {
      p.from = addr;
      broadcast(JSON.stringify(m), ws);
    } else if (m.method === 'signal.send') {
      p.from = addr;
      byAddr.get(p.to)?.send(JSON.stringify(m));
    } else if (m.method === 'signal.join') {
      room.add(ws);
      if (m.id !== undefined) ws.send(JSON.stringify({ jsonrpc: '2.0', id: m.id, result: { id: p.id, address: addr } }));
    }
  });
  ws.on('error', () => {});
  ws.on('close', () => {
    room.delete(ws);
    byAddr.delete(addr);
  });
});
await new Promise((r) => http.listen(0, '127.0.0.1', r));
serve({ cpu: () => process.cpuUsage(), mem: () => memory(), stats: () => ({ sockets: byAddr.size }), exit: () => {} });
process.send({ ready: true, port: http.address().port });
