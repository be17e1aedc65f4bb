import { execa } from 'execa';

/**
 * Opens a URL in the user's browser with the platform's own opener, as an argument array.
 * Resolves false when there is no opener (a machine without a desktop): the URL is printed
 * anyway.
 */
export function browserOpener(
  platform: NodeJS.Platform,
  url: string,
): { file: string; args: string[] } {
  if (platform === 'darwin') return { file: 'open', args: [url] };
  if (platform === 'win32') return { file: 'rundll32', args: ['url.dll,FileProtocolHandler', url] };
  return { file: 'xdg-open', args: [url] };
}

export async function openInBrowser(url: string, env: NodeJS.ProcessEnv): Promise<boolean> {
  const { file, args } = browserOpener(process.platform, url);
  const child = execa(file, args, {
    env,
    reject: false,
    detached: true,
    stdio: 'ignore',
    timeout: 30_000,
  });
  const result = await child;
  return result.exitCode === 0;
}
