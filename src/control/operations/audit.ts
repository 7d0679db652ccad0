/** The audit log: remote calls, refused logons and refused messages (administrators only). */
import { operation, pageLimit, wholeNumber } from '../operation.js';

export const auditOperations = {
  'audit.list': operation<{ afterId?: number; limit?: number }>()({
    action: 'administer',
    run: ({ services }, params) => services.audit.list(wholeNumber(params.afterId, 0, 'afterId'), pageLimit(params.limit)),
  }),
};
