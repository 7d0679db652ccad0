/** The organisation hub as this host sees it (`netsend hub status`). */
import { operation } from '../operation.js';

export const hubOperations = {
  'hub.status': operation()({
    action: 'names.read',
    // off: no "hub servers"; the host is serverless on its LAN
    run: async ({ services }) => (await services.hub?.status()) ?? { state: 'off' as const },
  }),
};
