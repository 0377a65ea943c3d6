import { Code, Drawer, ScrollArea } from '@mantine/core';

/** The raw JSON of an experiment or job. */
export function JsonDrawer({ value, title, onClose }: { value: unknown; title: string; onClose: () => void }) {
  return (
    <Drawer opened={value !== null} onClose={onClose} position="right" size="lg" title={title}>
      <ScrollArea h="calc(100vh - 100px)">
        <Code block data-testid="raw-json">{JSON.stringify(value, null, 2)}</Code>
      </ScrollArea>
    </Drawer>
  );
}
