import { admin, anyOf, authenticated, definePolicy, projectMember, projectReader } from '../lib/http/policy.ts';

const reader = anyOf(admin, projectReader);
const member = anyOf(admin, projectMember);

/** Glance's rules, by Glance's names. Routes check the role here; whether the image is the
 * caller's to see or change is decided with the image in hand (see access.ts). */
definePolicy({
  'image:context_is_admin': admin,
  'image:get_schemas': authenticated,
  'image:get_images': reader,
  'image:get_image': reader,
  'image:add_image': member,
  'image:modify_image': member,
  'image:delete_image': member,
  'image:upload_image': member,
  'image:download_image': reader,
  'image:publicize_image': admin,
  'image:communitize_image': member,
  'image:deactivate': admin,
  'image:reactivate': admin,
  'image:get_members': reader,
  'image:get_member': reader,
  'image:add_member': member,
  'image:modify_member': member,
  'image:delete_member': member,
  'image:get_usage': reader,
  'image:copy_image': admin,
  'image:stores_info_detail': admin,
  'image:tasks_api_access': admin,
  'image:get_metadef_namespace': authenticated,
  'image:modify_metadef': admin,
});
