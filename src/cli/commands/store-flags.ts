import type { Command } from 'commander';
import type { ObjectStore } from '../../storage/object-store.js';
import { openStore } from '../../storage/open-store.js';

/** Flags of commands that talk to storage (publish, pull). */
export interface StoreFlags {
  rclone: string;
  s3Endpoint?: string;
  s3Region?: string;
  s3VirtualHost?: boolean;
}

export const DESTINATION_HELP = 'dir:<path>, s3://<bucket>/<prefix> or rclone:<remote>:<path>';

export function addStoreOptions(command: Command): Command {
  return command
    .option('--rclone <binary>', 'the rclone binary', 'rclone')
    .option('--s3-endpoint <url>', 'S3 endpoint (default: AWS_ENDPOINT_URL, else AWS)')
    .option('--s3-region <region>', 'S3 region (default: AWS_REGION, else us-east-1)')
    .option('--s3-virtual-host', 'bucket in the host name (path style is the default with an endpoint)');
}

export function openStoreWith(destination: string, flags: StoreFlags): Promise<ObjectStore> {
  return openStore(destination, {
    rcloneBinary: flags.rclone,
    s3: {
      ...(flags.s3Endpoint ? { endpoint: flags.s3Endpoint } : {}),
      ...(flags.s3Region ? { region: flags.s3Region } : {}),
      ...(flags.s3VirtualHost ? { forcePathStyle: false } : {}),
    },
  });
}
