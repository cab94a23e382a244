import { useEffect, type ReactNode } from 'react';
import { useChannel, useMyState, useTyping } from 'react-signal-service';
import { nameOf, UserProvider, USERS } from './user-pane.js';

/** What a bot does in a channel. */
export interface BotSpec {
  identity: string;
  /** The bot's device. @default 'bot' */
  device?: string;
  /** Keep announcing typing. */
  typing?: boolean;
  /** Extra state shared next to `name` and `color`. */
  state?: Record<string, unknown>;
  /** Publish this text once joined. */
  says?: string;
}

function BotBrain({ channel, spec }: { channel: string; spec: BotSpec }) {
  const [, setState] = useMyState(channel);
  const { notifyTyping } = useTyping(channel);
  const { publish, status } = useChannel(channel);
  const stateKey = JSON.stringify(spec.state ?? {});
  useEffect(() => {
    setState({ name: nameOf(spec.identity), color: USERS[spec.identity]?.color, ...(JSON.parse(stateKey) as object) });
  }, [spec.identity, stateKey, setState]);
  useEffect(() => {
    if (!spec.typing) return;
    notifyTyping();
    const t = setInterval(notifyTyping, 1000);
    return () => clearInterval(t);
  }, [spec.typing, notifyTyping]);
  useEffect(() => {
    if (spec.says && status === 'joined') publish({ text: spec.says, at: Date.now() });
  }, [spec.says, status, publish]);
  return null;
}

/** Invisible users on their own connections, to give a story someone to see. */
export function Bots({ channel, bots }: { channel: string; bots: BotSpec[] }) {
  return (
    <>
      {bots.map((b) => (
        <UserProvider key={`${b.identity}/${b.device ?? 'bot'}`} identity={b.identity} device={b.device ?? 'bot'}>
          <BotBrain channel={channel} spec={b} />
        </UserProvider>
      ))}
    </>
  );
}

/** A compact page for a component or hook story: a title, a short text and the content. */
export function Stage({ title, lede, children }: { title: string; lede?: ReactNode; children: ReactNode }) {
  return (
    <main className="demo stage">
      <div className="demo-header">
        <div>
          <h1 className="demo-title">{title}</h1>
          {lede ? <p className="demo-lede">{lede}</p> : null}
        </div>
      </div>
      {children}
    </main>
  );
}

