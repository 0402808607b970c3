import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { Clock } from '../../common/clock';
import { AppConfig, InjectConfig } from '../../config/config';
import { UsersRepository } from '../users/users.repository';
import { newPasswordSchema } from './auth.schemas';
import { PasswordService } from './password.service';

/**
 * Makes sure an ACTIVE ADMIN with a given email exists: at boot from ADMIN_EMAIL/ADMIN_PASSWORD
 * (an existing user keeps its password), and from `npm run create-admin` (which sets it).
 */
@Injectable()
export class AdminAccounts implements OnApplicationBootstrap {
  private readonly logger = new Logger('AdminAccounts');

  constructor(
    private readonly users: UsersRepository,
    private readonly passwords: PasswordService,
    private readonly clock: Clock,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  async onApplicationBootstrap() {
    if (this.config.admin) await this.ensure(this.config.admin.email, this.config.admin.password, { setPassword: false });
  }

  async ensure(email: string, password: string, options: { setPassword: boolean }): Promise<{ id: string; created: boolean }> {
    const policy = newPasswordSchema.safeParse(password);
    if (!policy.success) throw new Error(`The admin password is refused: ${policy.error.issues.map((issue) => issue.message).join('; ')}`);
    const existing = await this.users.findByEmail(email);
    if (!existing) {
      const user = await this.users.create({
        email,
        passwordHash: await this.passwords.hash(password),
        firstName: 'Admin',
        lastName: 'User',
        language: 'en',
        locale: 'en',
        timezone: 'UTC',
        role: 'ADMIN',
        status: 'ACTIVE',
        emailVerifiedAt: this.clock.now(),
      });
      this.logger.log(`Created ADMIN ${email}`);
      return { id: user.id, created: true };
    }
    await this.users.update(existing.id, {
      role: 'ADMIN',
      ...(options.setPassword ? { passwordHash: await this.passwords.hash(password) } : {}),
    });
    await this.users.setStatus(existing.id, 'ACTIVE', this.clock.now());
    return { id: existing.id, created: false };
  }
}
