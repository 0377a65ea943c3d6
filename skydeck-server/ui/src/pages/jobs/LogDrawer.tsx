import { Code, Drawer, Group, ScrollArea, SegmentedControl, Switch, Text } from '@mantine/core';
import { useEffect, useRef, useState } from 'react';
import { api, errorDetail } from '../../api/client';
import type { Job } from '../../api/types';

/** A job's log in a right drawer: the last lines, and new ones as they come when following. */
export function LogDrawer({ job, onClose }: { job: Job | null; onClose: () => void }) {
  const [tail, setTail] = useState('200');
  const [follow, setFollow] = useState(true);
  // SkyPilot runs each managed job under a jobs controller, whose log says why a launch waits or recovers
  const [which, setWhich] = useState<'job' | 'controller'>('job');
  const hasController = job?.backend === 'skypilot';
  // the log of one stream (job, tail, follow, which): another stream starts empty, with no effect resetting state
  const stream = job ? `${job.id}|${tail}|${follow}|${which}` : '';
  const [log, setLog] = useState<{ stream: string; text: string; error: string | null }>({ stream: '', text: '', error: null });
  const text = log.stream === stream ? log.text : '';
  const error = log.stream === stream ? log.error : null;
  const viewport = useRef<HTMLDivElement>(null);

  useEffect(() => {
    if (!job) return undefined;
    const controller = new AbortController();
    const setError = (e: string) => setLog({ stream, text: '', error: e });
    void (async () => {
      try {
        const res = await fetch(api.logsUrl(job.id, Number(tail), follow && job.active,
          hasController && which === 'controller'),
          { headers: api.logHeaders(), signal: controller.signal });
        if (!res.ok || !res.body) {
          setError(errorDetail(await res.text()));
          return;
        }
        const reader = res.body.getReader();
        const decoder = new TextDecoder();
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          const chunk = decoder.decode(value, { stream: true });
          setLog((l) => ({ stream, text: ((l.stream === stream ? l.text : '') + chunk).slice(-2_000_000), error: null }));
        }
      } catch (e) {
        if (!controller.signal.aborted) setError(String(e));
      }
    })();
    return () => controller.abort();
  }, [job, tail, follow, which, hasController, stream]);

  useEffect(() => {
    viewport.current?.scrollTo({ top: viewport.current.scrollHeight });
  }, [text]);

  return (
    <Drawer opened={job !== null} onClose={onClose} position="right" size="xl"
      title={job ? `Log of ${job.experiment_name} · ${job.id}` : ''}>
      <Group mb="sm">
        {hasController && <SegmentedControl size="xs" value={which} data-testid="log-which"
          onChange={setWhich}
          data={[{ value: 'job', label: 'Job' }, { value: 'controller', label: 'Controller' }]} />}
        <SegmentedControl size="xs" value={tail} onChange={setTail}
          data={[{ value: '200', label: 'Last 200' }, { value: '1000', label: 'Last 1000' }, { value: '0', label: 'All' }]} />
        <Switch label="Follow" checked={follow} onChange={(e) => setFollow(e.currentTarget.checked)}
          disabled={!job?.active} />
      </Group>
      {error && <Text c="red" size="sm">{error}</Text>}
      <ScrollArea h="calc(100vh - 150px)" viewportRef={viewport}>
        <Code block data-testid="log-text">{text || (error ? '' : '…')}</Code>
      </ScrollArea>
    </Drawer>
  );
}
