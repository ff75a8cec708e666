import type { ControlPlane } from './control-plane.ts';

const holder = globalThis as { porticoControlPlane?: ControlPlane };

export default async function globalTeardown(): Promise<void> {
  await holder.porticoControlPlane?.stop();
  holder.porticoControlPlane = undefined;
}
