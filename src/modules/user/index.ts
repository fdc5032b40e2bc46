export { UserService, RateLimitedError, maskPhone } from './user.service.js';
export { UserRepository } from './user.repository.js';
export { PasswordHasher } from './password-hasher.js';
export { TokenService, type AuthContext } from '../../auth/token.service.js';
export { userRoutes } from './user.routes.js';
export { UserErrors } from './user.errors.js';
export type { User, UserInfo } from './user.entity.js';
export { AccountService, type AccountRemovalListener } from './account.service.js';
export {
  PasswordResetService,
  RESET_CODE_TEMPLATE,
  type PasswordResetDeps,
} from './password-reset.service.js';
export { PasswordResetRepository } from './password-reset.repository.js';
