// This worker's namespaces carry the `pdp-` prefix (data path), so they can
// never collide with other suites' labs on the same host.
import { Lab } from '../netns/netns.ts';

export class PdpLab extends Lab {
  override ns(short: string): string {
    // Lab's prefix is `pt<tag>-<random>`; keep the tag and the random part.
    return `pdp-${this.prefix.slice(2)}-${short}`;
  }
}
