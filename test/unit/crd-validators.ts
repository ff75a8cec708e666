// Shared by the unit tests that check MetalLB-shaped objects: Portico's
// validator for each kind, by the kind's name.
import {
  validateBFDProfile,
  validateBGPAdvertisement,
  validateBGPPeer,
  validateCommunity,
  validateIPAddressPool,
  validateIPReservation,
  validateL2Advertisement,
} from '../../crds/index.ts';
import type { ValidationResult } from '../../crds/index.ts';

export const validators: Record<string, (o: unknown) => ValidationResult<unknown>> = {
  IPAddressPool: validateIPAddressPool,
  L2Advertisement: validateL2Advertisement,
  BGPPeer: validateBGPPeer,
  BGPAdvertisement: validateBGPAdvertisement,
  BFDProfile: validateBFDProfile,
  Community: validateCommunity,
  IPReservation: validateIPReservation,
};
