export { adminUserRoutes, ADMIN_SOURCE } from './admin-users.routes.js';
export { adminOpsRoutes } from './admin-ops.routes.js';
export { AdminStats } from './admin-stats.js';
