import { SetMetadata } from '@nestjs/common';

export const ALLOW_INACTIVE = 'gatehouse:allowInactive';

/**
 * Opens an authenticated route to users whose account is not ACTIVE yet. Every other
 * authenticated route answers 403 ACCOUNT_NOT_ACTIVE until the emailed link activates the
 * account, so an unverified sign-up can only read itself, edit its profile and activate.
 */
export const AllowInactive = () => SetMetadata(ALLOW_INACTIVE, true);
