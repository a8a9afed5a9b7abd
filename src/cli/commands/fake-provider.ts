import { FakeProviderServer } from '../../testing/fake-provider-server.js';
import type { CommandIo } from '../output.js';
import { processSignals, type ServeSignals } from '../process-signals.js';

/** `groundwork fake-provider [--port N]`: the fake LLM provider server, until SIGTERM or SIGINT. */
export async function fakeProviderCommand(
  options: { port: number; host: string },
  io: CommandIo,
  signals: ServeSignals = processSignals(),
): Promise<number> {
  try {
    const fake = await new FakeProviderServer({ port: options.port, host: options.host }).start();
    io.err(`Fake LLM provider listening on ${fake.url}`);
    io.out(`OPENAI_BASE_URL=${fake.openaiBaseUrl}`);
    io.out(`ANTHROPIC_BASE_URL=${fake.anthropicBaseUrl}`);
    io.out(`AZURE_OPENAI_ENDPOINT=${fake.azureEndpoint}`);
    io.out(`GEMINI_BASE_URL=${fake.geminiBaseUrl}`);
    io.out(`BEDROCK_BASE_URL=${fake.bedrockEndpoint}`);
    const signal = await signals.stopped;
    io.err(`${signal} received: stopping.`);
    await fake.close();
    return 0;
  } finally {
    signals.dispose();
  }
}
